"""The per-group debounce, on a fake clock."""

from apps.activity.models import Event
from apps.live.coalesce import Coalescer


def event(n: int) -> Event:
    return Event(pk=n, kind="run.completed")


def test_the_first_event_after_a_quiet_spell_goes_out_at_once():
    coalescer = Coalescer(interval=0.25)
    coalescer.add("experiment-1", "target", [event(1)])
    assert coalescer.due(now=10.0) == [("target", [event(1)])]


def test_a_fast_sweep_sends_at_most_one_push_per_interval_and_loses_no_event():
    coalescer = Coalescer(interval=0.25)
    pushes = []
    for n in range(100):  # one event every 10 ms for a second
        now = n * 0.01
        coalescer.add("experiment-1", "target", [event(n)])
        pushes += coalescer.due(now)
    while coalescer.next_due() is not None:  # the trailing flush
        pushes += coalescer.due(coalescer.next_due())
    assert len(pushes) <= 1 + 1 / 0.25 + 1
    assert [e.pk for _, batch in pushes for e in batch] == list(range(100))


def test_groups_are_debounced_independently():
    coalescer = Coalescer(interval=0.25)
    coalescer.add("dashboard-a", "a", [event(1)])
    coalescer.due(now=0.0)
    coalescer.add("dashboard-a", "a", [event(2)])
    coalescer.add("dashboard-b", "b", [event(3)])
    assert coalescer.due(now=0.1) == [("b", [event(3)])]
    assert coalescer.next_due() == 0.25
    assert coalescer.due(now=0.25) == [("a", [event(2)])]


def test_the_latest_target_of_a_group_wins():
    coalescer = Coalescer(interval=0.25)
    coalescer.add("experiment-1", "without guests", [event(1)])
    coalescer.add("experiment-1", "with guests", [event(2)])
    assert coalescer.due(now=0.0) == [("with guests", [event(1), event(2)])]

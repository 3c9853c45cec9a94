"""The relay's tail of the Event table: each new row once, late commits with lower ids included."""

import pytest

from apps.activity.models import Event
from apps.live.relay import GRACE_S, EventTail
from apps.live.tests.conftest import experiment_of, record

pytestmark = pytest.mark.django_db


def test_the_tail_starts_after_the_existing_events_and_returns_each_new_one_once(owner):
    experiment = experiment_of(owner)
    record(experiment)
    tail = EventTail()
    assert tail.poll(now=0.0) == []
    new = record(experiment)
    assert tail.poll(now=0.1) == [new]
    assert tail.poll(now=0.2) == []


def test_an_event_committed_late_with_a_lower_id_is_still_delivered(owner):
    experiment = experiment_of(owner)
    tail = EventTail()
    base = tail.floor
    later = record(experiment)
    Event.objects.filter(pk=later.pk).update(id=base + 5)  # as if a transaction holding base + 1.. had not committed
    assert [e.pk for e in tail.poll(now=0.0)] == [base + 5]
    late = Event.objects.create(id=base + 2, kind="run.completed", owner=owner, experiment=experiment)
    assert tail.poll(now=0.5) == [late]
    assert tail.poll(now=GRACE_S + 1) == []
    assert tail.floor == base + 5  # settled: the gap below is given up after the grace period

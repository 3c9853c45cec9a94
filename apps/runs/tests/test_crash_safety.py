"""Crash safety: SIGKILL the worker at random points of a sweep, restart it as bin/start does, repeat.

Pass criterion (QUALITY.md, "Sweeps survive faults"): every run completes exactly once, no duplicate
results, token and cost totals equal a clean run's, the timeline shows the interruptions, and a kill
re-sends at most the calls that were in flight (each finished call is stored as it completes).
"""

import random
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.activity.models import Event
from apps.runs.models import ResponseCache, Run, StageResult, Sweep
from apps.runs.services.recording import LEASE
from apps.runs.tests.worker import clean_reference, per_point, run_totals, start, status_of, sweep_totals, throttle

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 20240611
KILLS = 3
SHAPE = {
    "n_items": 4,
    "space": [
        {"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
        {"path": "stages.0.params.temperature", "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]},
    ],
}
RUNS, CALLS = 16, 16 * 4 * 1 * 2  # runs × items × repeats × stages
CONCURRENCY = 2  # the endpoint's limit: at most this many calls are ever in flight
LATENCY_MS = 150
# What one kill may cost: the calls in flight, i.e. sent and not yet stored. The driver stores each
# finished call as soon as its database thread is free (a few ms), so per slot that is the call running
# now plus, at worst, the one that finished within that write. Before finished calls were stored,
# 3 kills re-sent ~30 calls; with 100 ms batched flushes, up to 3 per slot.
RESENT_PER_KILL = 2 * CONCURRENCY


def terminal_runs(sweep) -> int:
    return Run.objects.filter(sweep=sweep, status__in=Run.TERMINAL).count()


def expire_dead_leases(sweep) -> int:
    """Stand-in for waiting out the dead driver's 60 s lease (see recording.LEASE); nothing else is touched."""
    past = timezone.now() - timedelta(seconds=1)
    return Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(lease_expires_at=past)


def test_a_sweep_survives_random_sigkills_of_its_worker_and_totals_match_a_clean_run(
    api, make_experiment, endpoint, fake_llm, worker
):
    rng = random.Random(SEED)
    clean = clean_reference(api, make_experiment, **SHAPE)
    throttle(endpoint, fake_llm, slots=CONCURRENCY, latency_ms=LATENCY_MS)
    fake_llm.reset_stats()
    worker.start()
    experiment = make_experiment(**SHAPE)
    sweep = start(api, experiment)
    assert sweep.runs_total == RUNS and sweep.calls_total == CALLS

    in_flight_at_kills = []
    for kill in range(KILLS):
        # A random moment: after 1–3 more runs have finished, then 0–6 more calls into the next ones.
        runs_target = terminal_runs(sweep) + rng.randint(1, 3)
        worker.wait_for(lambda runs_target=runs_target: terminal_runs(sweep) >= runs_target,
                        what=f"{runs_target} finished runs (kill {kill})")
        calls_target = fake_llm.stats["chat"] + rng.randint(0, 6)
        worker.wait_for(lambda calls_target=calls_target: fake_llm.stats["chat"] >= calls_target,
                        what=f"call {calls_target} (kill {kill})")
        worker.kill()
        assert status_of(sweep) == Sweep.Status.RUNNING, "the sweep finished before the kill; make it longer"
        in_flight_at_kills.append(expire_dead_leases(sweep))
        worker.start()

    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=60, what="the sweep to complete")

    assert sum(in_flight_at_kills) > 0, "no kill caught a run in flight"
    runs = Run.objects.filter(sweep=sweep)
    assert runs.count() == RUNS
    assert set(runs.values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert min(runs.values_list("attempts", flat=True)) >= 1
    assert max(runs.values_list("attempts", flat=True)) >= 2  # killed runs were claimed again
    assert not runs.exclude(lease_owner="").exists() and not runs.filter(lease_expires_at__isnull=False).exists()

    results = StageResult.objects.filter(run__sweep=sweep)
    assert results.count() == CALLS
    per_call = results.values("run", "item_id", "repeat", "stage_index").annotate(n=Count("id"))
    assert per_call.count() == CALLS and {c["n"] for c in per_call} == {1}
    assert {r["n"] for r in results.values("run").annotate(n=Count("id"))} == {CALLS // RUNS}
    run_ids = [str(pk) for pk in runs.values_list("id", flat=True)]
    assert ResponseCache.objects.filter(origin_run__in=run_ids).count() == CALLS
    resent = fake_llm.stats["chat"] - CALLS
    assert 0 <= resent <= KILLS * RESENT_PER_KILL, f"{resent} calls re-sent after {KILLS} kills"

    sweep.refresh_from_db()
    assert sweep.runs_done == RUNS
    assert sweep_totals(sweep) == sweep_totals(clean) == run_totals(sweep)
    assert per_point(sweep) == per_point(clean)

    timeline = list(Event.objects.filter(sweep=sweep).order_by("id").values_list("kind", "run_id"))
    kinds = [kind for kind, _ in timeline]
    assert kinds[0] == "experiment.started" and kinds[-1] == "experiment.completed"
    assert kinds.count("experiment.completed") == 1
    assert kinds.count("experiment.interrupted") == KILLS
    completed_runs = [run_id for kind, run_id in timeline if kind == "run.completed"]
    assert len(completed_runs) == len(set(completed_runs)) == RUNS
    interrupted = Event.objects.filter(sweep=sweep, kind="experiment.interrupted")
    assert all(event.payload["unfinished_runs"] > 0 for event in interrupted)


def test_a_restarted_worker_takes_over_the_killed_workers_runs_without_waiting_out_their_leases(
    api, make_experiment, endpoint, fake_llm, worker
):
    """bin/start re-queues a dead worker's sweeps before the cluster starts; the runs it held must
    not sit `running` until their lease expires and the once-a-minute reconciler rings again."""
    throttle(endpoint, fake_llm, slots=2, latency_ms=50)
    worker.start()
    experiment = make_experiment(n_items=3)
    sweep = start(api, experiment)
    worker.wait_for(lambda: fake_llm.stats["chat"] >= 3, what="calls in flight")
    worker.kill()
    assert Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists()

    worker.start()
    deadline_s = LEASE.total_seconds() / 3
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=deadline_s,
                    what=f"the sweep to complete within {deadline_s:.0f} s of the restart "
                         f"(a dead driver's lease lasts {LEASE.total_seconds():.0f} s)")
    assert set(Run.objects.filter(sweep=sweep).values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert StageResult.objects.filter(run__sweep=sweep).count() == 6 * 3 * 2

"""Steering a sweep while its driver is running (driver on a thread, as in a worker)."""

import threading

import pytest

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, StageResult, Sweep
from apps.runs.tests.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def drive_in_thread(sweep_id: str) -> threading.Thread:
    thread = threading.Thread(target=sweep_drive, args=(sweep_id,), daemon=True)
    thread.start()
    return thread


@pytest.fixture
def slow_sweep(api, make_experiment, endpoint, enqueued, fake_llm):
    fake_llm.latency_ms = 60
    endpoint.max_concurrency = 1
    endpoint.save()
    experiment = make_experiment(n_items=1, space=[{"path": "stages.0.params.temperature",
                                                    "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]}])
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    return experiment, Sweep.objects.get(pk=response.json()["sweep"]["id"])


def test_pause_lets_in_flight_calls_finish_and_starts_nothing_new(api, slow_sweep, enqueued):
    experiment, sweep = slow_sweep
    thread = drive_in_thread(str(sweep.pk))
    wait_until(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).exists(), what="a finished run")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code == 200
    thread.join(timeout=30)
    assert not thread.is_alive()
    statuses = list(Run.objects.filter(sweep=sweep).values_list("status", flat=True))
    assert Run.Status.RUNNING not in statuses
    assert statuses.count(Run.Status.PENDING) >= 1
    for run in Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED):
        assert StageResult.objects.filter(run=run).count() == 2  # every stage of a finished run is stored
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED

    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == 8
    assert StageResult.objects.filter(run__sweep=sweep).count() == 16
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert "experiment.paused" in kinds and "experiment.resumed" in kinds


def test_a_paused_and_resumed_sweep_counts_the_same_tokens_as_a_clean_one(api, slow_sweep, make_experiment, enqueued):
    experiment, sweep = slow_sweep
    thread = drive_in_thread(str(sweep.pk))
    wait_until(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).exists(), what="a finished run")
    api.post(f"/api/v1/experiments/{experiment.pk}/pause")
    thread.join(timeout=30)
    api.post(f"/api/v1/experiments/{experiment.pk}/resume")
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    paused_total = (sweep.tokens_in, sweep.tokens_out, sweep.cost_usd)

    api.delete(f"/api/v1/experiments/{experiment.pk}/cache")
    clean = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json").json()["sweep"]["id"]
    sweep_drive(clean)
    clean_sweep = Sweep.objects.get(pk=clean)
    assert (clean_sweep.tokens_in, clean_sweep.tokens_out, clean_sweep.cost_usd) == paused_total


def test_stop_while_running_cancels_the_rest(api, slow_sweep, enqueued):
    experiment, sweep = slow_sweep
    thread = drive_in_thread(str(sweep.pk))
    wait_until(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).exists(), what="a finished run")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/stop").json()["status"] == "stopped"
    thread.join(timeout=30)
    statuses = list(Run.objects.filter(sweep=sweep).values_list("status", flat=True))
    assert Run.Status.RUNNING not in statuses and Run.Status.PENDING not in statuses
    assert statuses.count(Run.Status.CANCELLED) >= 1

"""Sweeps through the REST API, driven by a real django-q2 worker process (bin/start's worker role)."""

import math

import pytest
from django.db.models import Count, Sum

from apps.activity.models import Event
from apps.runs.driver import FLUSH_INTERVAL_S, STEER_INTERVAL_S
from apps.runs.models import Run, StageResult, Sweep
from apps.runs.tests.worker import clean_reference, per_point, run_totals, start, status_of, sweep_totals, throttle

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_runs_a_grid_sweep_to_completion_and_a_rerun_is_fully_cached(api, make_experiment, fake_llm,
                                                                              worker):
    worker.start()
    experiment = make_experiment(repeats=2)
    sweep = start(api, experiment, type="grid")
    assert sweep.runs_total == 6 and sweep.calls_total == 6 * 5 * 2 * 2

    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, what="the sweep to complete")

    runs = Run.objects.filter(sweep=sweep)
    assert runs.count() == 6 and set(runs.values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert set(runs.values_list("attempts", flat=True)) == {1}
    results = StageResult.objects.filter(run__sweep=sweep)
    assert results.count() == 6 * 5 * 2 * 2 == fake_llm.stats["chat"]
    keys = results.values("run", "item_id", "repeat", "stage_index").annotate(n=Count("id"))
    assert keys.count() == 120 and {k["n"] for k in keys} == {1}
    assert sweep_totals(sweep) == run_totals(sweep)
    sweep.refresh_from_db()
    assert sweep.runs_done == 6 and sweep.tokens_in > 0 and sweep.cost_usd > 0
    assert sweep.tokens_in == results.aggregate(t=Sum("tokens_in"))["t"]
    kinds = list(Event.objects.filter(sweep=sweep).order_by("id").values_list("kind", flat=True))
    assert kinds[0] == "experiment.started" and kinds[-1] == "experiment.completed"
    assert kinds.count("run.completed") == 6 and kinds.count("experiment.completed") == 1

    fake_llm.reset_stats()
    again = start(api, experiment, type="grid")
    worker.wait_for(lambda: status_of(again) == Sweep.Status.COMPLETED, what="the cached sweep to complete")

    again.refresh_from_db()
    assert fake_llm.stats["chat"] == 0
    assert set(Run.objects.filter(sweep=again).values_list("status", flat=True)) == {Run.Status.CACHED}
    assert again.tokens_in == again.tokens_out == 0 and again.cost_usd == 0
    assert again.cache_hits == again.calls_total == 120


def test_a_worker_driven_sweep_paused_and_resumed_totals_the_same_as_a_clean_run(
    api, make_experiment, endpoint, fake_llm, worker
):
    shape = {"n_items": 3}
    clean = clean_reference(api, make_experiment, **shape)
    throttle(endpoint, fake_llm, slots=2, latency_ms=100)
    worker.start()
    experiment = make_experiment(**shape)
    sweep = start(api, experiment)
    worker.wait_for(lambda: Run.objects.filter(sweep=sweep, status__in=Run.TERMINAL).exists(), what="a first run")

    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").json()["status"] == "paused"
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the paused sweep to drain")
    assert status_of(sweep) == Sweep.Status.PAUSED
    assert Run.objects.filter(sweep=sweep, status=Run.Status.PENDING).exists()

    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").json()["status"] == "running"
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, what="the resumed sweep to complete")

    assert set(Run.objects.filter(sweep=sweep).values_list("status", flat=True)) == {Run.Status.COMPLETED}
    assert StageResult.objects.filter(run__sweep=sweep).count() == 6 * 3 * 2
    assert sweep_totals(sweep) == sweep_totals(clean) == run_totals(sweep)
    assert per_point(sweep) == per_point(clean)
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert kinds.count("experiment.paused") == 1 and kinds.count("experiment.resumed") == 1
    assert kinds.count("run.completed") == 6 and kinds.count("experiment.completed") == 1


def test_stopping_a_worker_driven_sweep_cancels_what_has_not_run(api, make_experiment, endpoint, fake_llm,
                                                                 worker):
    throttle(endpoint, fake_llm, slots=2, latency_ms=100)
    worker.start()
    experiment = make_experiment(n_items=3)
    sweep = start(api, experiment)
    worker.wait_for(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(), what="a claimed run")

    response = api.post(f"/api/v1/experiments/{experiment.pk}/stop")
    assert response.status_code == 200 and response.json()["status"] == "stopped"
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep).exclude(status__in=Run.TERMINAL).exists(),
                    what="every run to end")

    assert status_of(sweep) == Sweep.Status.STOPPED
    cancelled = Run.objects.filter(sweep=sweep, status=Run.Status.CANCELLED)
    assert cancelled.exists()
    assert not StageResult.objects.filter(run__in=cancelled).exists()
    assert sweep_totals(sweep) == run_totals(sweep)
    assert Event.objects.filter(sweep=sweep, kind="experiment.stopped").count() == 1
    assert not Event.objects.filter(sweep=sweep, kind="experiment.completed").exists()


@pytest.mark.parametrize("action", ["pause", "stop"])
def test_after_a_pause_or_stop_only_calls_already_at_the_endpoint_are_made(action, api, make_experiment, endpoint,
                                                                           fake_llm, worker):
    """'In-flight calls finish; nothing new starts': calls still queued for an endpoint slot must not go out."""
    slots, latency_s = 2, 0.1
    throttle(endpoint, fake_llm, slots=slots, latency_ms=latency_s * 1000)
    worker.start()
    experiment = make_experiment(n_items=15)
    sweep = start(api, experiment)
    worker.wait_for(lambda: fake_llm.stats["chat"] >= 2 * slots, what="the first calls")

    assert api.post(f"/api/v1/experiments/{experiment.pk}/{action}").status_code == 200
    at_request = fake_llm.stats["chat"]
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what=f"the {action}ped sweep to drain")

    # Allowed: the calls at the endpoint, plus those the slots start before the driver's next steering
    # read (twice that window, for a loaded machine). Queued calls are bounded only by the plan.
    steering_window_s = 2 * (STEER_INTERVAL_S + FLUSH_INTERVAL_S)
    allowed = slots + slots * math.ceil(steering_window_s / latency_s)
    assert fake_llm.stats["chat"] - at_request <= allowed

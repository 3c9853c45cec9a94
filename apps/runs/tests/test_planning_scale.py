"""Big random sweeps: the fast planning and row insert store exactly what the slow path stored."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.engine.config_paths import apply_point
from apps.runs.models import Run, Sweep
from apps.runs.services.planning import run_config_hash, samples_fingerprint

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = [{"path": f"stages.0.params.x{k}", "values": [round(0.1 * v, 1) for v in range(10)]} for k in range(8)] + [
    {"path": "stages.0.params.temperature", "min": 0, "max": 2, "distribution": "uniform"}]


def stage(endpoint) -> list[dict]:
    params = {"temperature": 0.5, **{f"x{k}": 0 for k in range(8)}}
    return [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
             "prompt_template": "Answer: {{ input }}", "params": params}]


def start(api, experiment, **body):
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")


def test_a_random_sweep_over_a_huge_space_stores_n_distinct_runs_as_the_orm_would(
        api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=stage(endpoint), n_items=2, space=HUGE)
    response = start(api, experiment, type="random", n=3000, seed=11)
    assert response.status_code == 202, response.content
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    assert sweep.runs_total == 3000 and sweep.calls_total == 3000 * 2

    runs = list(Run.objects.filter(sweep=sweep).order_by("position"))
    assert [r.position for r in runs] == list(range(3000))
    assert len({r.config_hash for r in runs}) == 3000
    fingerprint = samples_fingerprint(experiment.sample_data)
    base = {"stages": experiment.pipeline_stages}
    for run in runs[:200] + runs[-200:]:
        assert run.config == apply_point(base, run.point)
        assert run.config_hash == run_config_hash(config=run.config, items_fingerprint=fingerprint, repeats=1)
        assert isinstance(run.pk, uuid.UUID) and run.pk.version == 4
        assert (run.status, run.approval, run.attempts, run.calls, run.cost_estimate, run.error) == (
            Run.Status.PENDING, "", 0, 0, 0, "")
        assert run.experiment_id == experiment.pk and run.created_at is not None
    assert Run.objects.filter(sweep=sweep, point__has_key="stages.0.params.temperature").count() == 3000


def test_the_same_seed_plans_the_same_runs_in_the_same_order_and_the_dry_run_shows_them(
        api, make_experiment, endpoint, enqueued):
    first, second = (make_experiment(stages=stage(endpoint), n_items=1, space=HUGE) for _ in range(2))
    dry = start(api, first, type="random", n=2500, seed=3, dry_run=True).json()
    assert dry["runs"] == 2500 and dry["calls"] == 2500
    for experiment in (first, second):
        assert start(api, experiment, type="random", n=2500, seed=3).status_code == 202
    planned = [list(Run.objects.filter(experiment=e).order_by("position").values_list("point", flat=True))
               for e in (first, second)]
    assert planned[0] == planned[1]
    assert dry["points"] == planned[0][:100]


def test_a_random_sweep_larger_than_its_space_plans_all_of_it_and_says_so(api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)  # 2 models × 3 temperatures
    response = start(api, experiment, type="random", n=50, seed=1)
    assert response.status_code == 202
    assert response.json()["note"] == "The space has only 6 distinct points; planned all of them."
    assert Run.objects.filter(experiment=experiment).count() == 6


def test_a_random_sweep_over_the_call_limit_is_refused_with_the_numbers(api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=stage(endpoint), n_items=4, space=HUGE)
    response = start(api, experiment, type="random", n=25_001, seed=1)
    assert response.status_code == 400
    message = response.json()["n"][0]
    assert "25,001" in message and "25,000" in message and "100,000 LLM calls" in message
    assert "4 items × 1 repeats × 1 stages" in message
    assert not Sweep.objects.filter(experiment=experiment).exists() and not Run.objects.exists()


def test_a_big_sweep_writes_its_runs_in_one_statement_not_one_per_few_dozen_rows(
        api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=stage(endpoint), n_items=1, space=HUGE)
    with CaptureQueriesContext(connection) as queries:
        assert start(api, experiment, type="random", n=2000, seed=2).status_code == 202
    inserts = [q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "runs_run"')]
    assert len(inserts) <= 1
    assert Run.objects.filter(experiment=experiment).count() == 2000


def test_a_redirect_appends_the_new_runs_after_the_kept_ones(api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(stages=stage(endpoint), n_items=1, space=HUGE)
    assert start(api, experiment, type="random", n=40, seed=9).status_code == 202
    Run.objects.filter(experiment=experiment, position__lt=10).update(status=Run.Status.COMPLETED)
    space = [{"path": "stages.0.params.x0", "values": [0.5, 0.6, 0.7]}]
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect", {"parameter_space": space, "type": "grid"},
                        format="json")
    assert response.status_code == 200, response.content
    runs = list(Run.objects.filter(experiment=experiment).order_by("position"))
    assert len(runs) == 13 and [r.position for r in runs[10:]] == [10, 11, 12]
    assert [r.point for r in runs[10:]] == [{"stages.0.params.x0": v} for v in (0.5, 0.6, 0.7)]
    assert all(r.config == apply_point({"stages": experiment.pipeline_stages}, r.point) for r in runs[10:])


def test_the_driver_loads_an_endpoint_that_only_runs_after_the_first_five_thousand_name(
        api, make_experiment, endpoint, owner, enqueued):
    from apps.endpoints.models import Endpoint
    from apps.runs.driver import SweepDriver

    second = Endpoint.objects.create(owner=owner, label="second", base_url=endpoint.base_url)
    space = [{"path": "stages.0.endpoint", "values": [str(endpoint.pk), str(second.pk)]}] + [
        {"path": f"stages.0.params.x{k}", "values": [round(0.1 * v, 1) for v in range(size)]}
        for k, size in enumerate((10, 10, 10, 6))]
    experiment = make_experiment(stages=stage(endpoint), n_items=1, space=space)
    response = start(api, experiment, type="grid")
    assert response.status_code == 202, response.content
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    first_use = Run.objects.filter(sweep=sweep, config__stages__0__endpoint=str(second.pk)).order_by("position")
    assert first_use.first().position == 6000

    driver = SweepDriver(str(sweep.pk))
    driver._load()

    assert {str(endpoint.pk), str(second.pk)} <= set(driver.endpoints)


def test_a_sweep_start_leaves_the_sqlite_connection_checkpointing_its_log_as_before(
        api, make_experiment, endpoint, enqueued):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write-ahead log only")
    experiment = make_experiment(stages=stage(endpoint), n_items=1, space=HUGE)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        before = cursor.fetchone()[0]

    assert start(api, experiment, type="random", n=500, seed=4).status_code == 202

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == before > 0

"""No sweep hangs in `running`: broken endpoints fail runs, broken runs fail alone, a broken driver fails its sweep."""

from datetime import timedelta

import pytest

from apps.activity.models import Event
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.runs import driver
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep
from apps.runs.services import recording
from apps.runs.services.reconcile import sweeps_reconcile

pytestmark = pytest.mark.django_db(transaction=True)

MODELS = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]}]


def start(api, experiment, **body):
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid", **body}, format="json")
    assert response.status_code == 202, response.content
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def statuses(sweep) -> list[str]:
    return sorted(Run.objects.filter(sweep=sweep).values_list("status", flat=True))


def kinds(sweep) -> list[str]:
    return list(Event.objects.filter(sweep=sweep).order_by("id").values_list("kind", flat=True))


def test_a_stored_endpoint_url_that_cannot_be_requested_fails_the_runs_and_the_sweep_ends(
        api, make_experiment, endpoint, enqueued, fake_llm):
    experiment = make_experiment(n_items=2, space=MODELS)
    Endpoint.objects.filter(pk=endpoint.pk).update(base_url="http://0127.0.0.1:1/v1")  # saved before the fix
    sweep = start(api, experiment)

    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == 2
    assert statuses(sweep) == [Run.Status.FAILED] * 2
    assert all("invalid endpoint URL" in run.error for run in Run.objects.filter(sweep=sweep))
    assert kinds(sweep).count("run.failed") == 2 and fake_llm.stats["chat"] == 0
    Endpoint.objects.filter(pk=endpoint.pk).update(base_url=fake_llm.base_url)
    assert start(api, experiment).status == Sweep.Status.PENDING


def test_a_deleted_endpoint_fails_the_runs_with_a_clear_message_and_the_sweep_ends(
        api, make_experiment, endpoint, enqueued, fake_llm):
    experiment = make_experiment(n_items=2, space=MODELS)
    sweep = start(api, experiment)
    Endpoint.objects.filter(pk=endpoint.pk).delete()

    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    assert statuses(sweep) == [Run.Status.FAILED] * 2
    for run in Run.objects.filter(sweep=sweep):
        assert f"endpoint {endpoint.pk} is not available" in run.error and "stage 'extract'" in run.error
    failed = Event.objects.filter(sweep=sweep, kind="run.failed")
    assert failed.count() == 2 and all("is not available" in e.payload["error"] for e in failed)
    assert fake_llm.stats["chat"] == 0


def test_an_unexpected_error_in_one_run_fails_that_run_and_the_others_complete(
        api, make_experiment, enqueued, monkeypatch):
    experiment = make_experiment(n_items=2, space=MODELS + [{"path": "stages.1.params.temperature",
                                                             "values": [0.0, 1.0]}])
    sweep = start(api, experiment)
    doomed = str(Run.objects.filter(sweep=sweep).order_by("position").first().pk)
    real = driver.run_pipeline

    async def pipeline(*, run_id, **kwargs):
        if run_id == doomed:
            raise RuntimeError("something nobody expected")
        return await real(run_id=run_id, **kwargs)

    monkeypatch.setattr(driver, "run_pipeline", pipeline)
    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == 4
    failed = Run.objects.get(pk=doomed)
    assert failed.status == Run.Status.FAILED and "RuntimeError: something nobody expected" in failed.error
    assert failed.lease_owner == "" and failed.completed_at is not None
    assert set(Run.objects.filter(sweep=sweep).exclude(pk=doomed).values_list("status", flat=True)) == {"completed"}
    event = Event.objects.get(sweep=sweep, kind="run.failed")
    assert str(event.run_id) == doomed and "something nobody expected" in event.payload["error"]


def failing_recorder(monkeypatch, *, record_first_in: set[int]):
    """Make storing finished runs raise, as a full disk would; on the chosen attempts one run is stored first."""
    real, attempts = recording.outcomes_record, {"n": 0}

    def record(**kwargs):
        if not kwargs["finished"]:
            return real(**kwargs)
        if attempts.pop("record", False):
            real(**{**kwargs, "finished": kwargs["finished"][:1]})
        raise RuntimeError("disk I/O error")

    def drive(sweep_id):
        attempts["n"] += 1
        attempts["record"] = attempts["n"] in record_first_in
        real_drive(sweep_id)

    real_drive = sweep_drive
    monkeypatch.setattr(recording, "outcomes_record", record)
    return drive


def test_a_driver_that_fails_every_time_fails_its_sweep_after_three_attempts_and_is_not_requeued(
        api, make_experiment, enqueued, monkeypatch):
    experiment = make_experiment(n_items=2, space=MODELS + [{"path": "stages.1.params.temperature",
                                                             "values": [0.0, 1.0]}])
    sweep = start(api, experiment)
    drive = failing_recorder(monkeypatch, record_first_in={1})

    for attempt in (1, 2):
        drive(str(sweep.pk))
        sweep.refresh_from_db()
        assert sweep.status == Sweep.Status.RUNNING, attempt
        assert not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists()  # leases released
    finished = list(Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).values_list("pk", flat=True))
    assert len(finished) == 1
    drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.FAILED and sweep.finished_at is not None
    assert "disk I/O error" in sweep.pause_reason
    assert kinds(sweep).count("driver.crashed") == 3
    event = Event.objects.get(sweep=sweep, kind="experiment.failed")
    assert "disk I/O error" in event.payload["error"] and event.payload["driver_failures"] == 3
    assert list(Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).values_list("pk", flat=True)) == finished
    assert statuses(sweep).count(Run.Status.CANCELLED) == 3
    assert not Run.objects.filter(sweep=sweep).exclude(lease_owner="").exists()
    assert Experiment.objects.get(pk=experiment.pk).status != Experiment.Status.RUNNING

    enqueued.clear()
    sweeps_reconcile(stale_after=timedelta(0))
    sweeps_reconcile(force=True)
    assert enqueued == [] and Sweep.objects.get(pk=sweep.pk).status == Sweep.Status.FAILED
    monkeypatch.undo()
    assert start(api, experiment).status == Sweep.Status.PENDING


def test_driver_failures_with_progress_in_between_do_not_fail_the_sweep(api, make_experiment, enqueued, monkeypatch):
    experiment = make_experiment(n_items=2, space=MODELS + [{"path": "stages.1.params.temperature",
                                                             "values": [0.0, 1.0]}])
    sweep = start(api, experiment)
    drive = failing_recorder(monkeypatch, record_first_in={3})

    for _ in range(3):
        drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.RUNNING and kinds(sweep).count("driver.crashed") == 3
    monkeypatch.undo()
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and statuses(sweep) == [Run.Status.COMPLETED] * 4

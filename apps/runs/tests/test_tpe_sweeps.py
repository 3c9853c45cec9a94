"""tpe sweeps through the real driver over the demo task on demo-* models (2 prompts × 11 temperatures × 2 models)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.activity.models import Event
from apps.experiments.services import experiment_create
from apps.instance.demo import CHECKLIST_PROMPT, PLAIN_PROMPT, demo_experiment
from apps.mcp.tools.sweeps import RunSweepArgs
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, StageResult, Sweep
from apps.runs.services.guided import guided_next_batch
from apps.runs.tests.worker import start, status_of, throttle

SEED = 7
N, BATCH = 12, 4
ITEMS = 12
SPACE = [
    {"path": "stages.0.system_prompt", "values": [PLAIN_PROMPT, CHECKLIST_PROMPT]},
    {"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0, "step": 0.1},
    {"path": "stages.0.model", "values": ["demo-mini", "demo-pro"]},
]
TPE = {"type": "tpe", "n": N, "batch": BATCH, "seed": SEED, "options": {"n_startup_trials": 4}}


@pytest.fixture
def demo(owner, project, endpoint):
    def make():
        data = {**demo_experiment(endpoint_id=str(endpoint.pk)), "parameter_space": SPACE}
        return experiment_create(user=owner, project=project, data=data)
    return make


def points(sweep) -> list[dict]:
    return list(Run.objects.filter(sweep=sweep).order_by("position").values_list("point", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_tpe_sweep_runs_n_distinct_configurations_in_batches_and_learns_from_the_first(api, demo, enqueued):
    experiment = demo()
    sweep = start(api, experiment, **TPE)
    assert sweep.runs_total == BATCH and sweep.request["options"] == {"n_startup_trials": 4}
    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_total == N
    runs = list(Run.objects.filter(sweep=sweep).order_by("position"))
    assert len(runs) == N and len({r.config_hash for r in runs}) == N
    assert all(r.status == Run.Status.COMPLETED and r.weighted_score is not None for r in runs)
    assert Event.objects.filter(sweep=sweep, kind="sweep.batch_planned").count() == N // BATCH - 1
    # The search state is the stored runs, told in plan order once each batch had finished.
    state = sweep.request["guided"]["state"]
    assert state["trials"] == [[r.point, r.weighted_score] for r in runs] and state["pending"] == []
    assert guided_next_batch(sweep_id=sweep.pk) == 0  # n reached: nothing more is planned


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_plans_the_same_configurations_in_the_same_order(api, demo, enqueued):
    first, second = demo(), demo()
    one, two = start(api, first, **TPE), start(api, second, **TPE)
    sweep_drive(str(one.pk))
    sweep_drive(str(two.pk))
    assert points(one) == points(two) and len(points(one)) == N


@pytest.mark.django_db(transaction=True)
def test_a_tpe_sweep_over_a_space_smaller_than_n_runs_all_of_it_once_and_completes(api, demo, enqueued):
    experiment = demo()
    space = [{"path": "stages.0.model", "values": ["demo-mini", "demo-pro"]},
             {"path": "stages.0.params.temperature", "values": [0.2, 0.8]}]
    sweep = start(api, experiment, **{**TPE, "parameter_space": space})
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.COMPLETED
    assert sorted(map(str, points(sweep))) == sorted({str(p) for p in points(sweep)}) and len(points(sweep)) == 4


@pytest.mark.django_db(transaction=True)
def test_a_token_budget_pauses_a_tpe_sweep_before_it_plans_past_it(api, demo, endpoint, enqueued):
    endpoint.max_concurrency = 1
    endpoint.save()
    experiment = demo()
    sweep = start(api, experiment, **TPE, budget_tokens=1)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED and "token budget" in sweep.pause_reason
    assert Run.objects.filter(sweep=sweep).count() == BATCH  # no further batch was planned
    assert Event.objects.filter(sweep=sweep, kind="budget.exhausted").exists()


@pytest.mark.django_db(transaction=True)
def test_a_stopped_tpe_sweep_cancels_its_batch_and_plans_no_more(api, demo, enqueued):
    experiment = demo()
    sweep = start(api, experiment, **TPE)
    assert api.post(f"/api/v1/experiments/{experiment.pk}/stop").status_code == 200
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.STOPPED
    assert set(Run.objects.filter(sweep=sweep).values_list("status", flat=True)) == {Run.Status.CANCELLED}
    assert guided_next_batch(sweep_id=sweep.pk) == 0 and Run.objects.filter(sweep=sweep).count() == BATCH


@pytest.mark.django_db(transaction=True)
def test_a_redirected_tpe_sweep_runs_the_new_points_then_searches_on_up_to_n(api, demo, enqueued):
    experiment = demo()
    sweep = start(api, experiment, **TPE)
    detour = [{"path": "stages.0.params.temperature", "values": [0.35, 0.45]}]
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect", {"parameter_space": detour}, format="json")
    assert response.status_code == 200 and response.json()["removed_runs"] == BATCH
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.COMPLETED
    planned = points(sweep)
    assert planned[:2] == [{"stages.0.params.temperature": 0.35}, {"stages.0.params.temperature": 0.45}]
    assert len(planned) == N and len({str(p) for p in planned}) == N
    assert all(set(p) == {axis["path"] for axis in SPACE} for p in planned[2:])


@pytest.mark.django_db(transaction=True)
def test_tpe_options_are_validated_naming_the_field(api, demo, enqueued):
    experiment = demo()
    url = f"/api/v1/experiments/{experiment.pk}/sweep"
    response = api.post(url, {**TPE, "options": {"n_startup_trials": -1}}, format="json")
    assert response.status_code == 400 and "options.n_startup_trials" in response.json()
    response = api.post(url, {**TPE, "options": {"eta": 3}}, format="json")
    assert response.status_code == 400 and "options.eta" in response.json()
    response = api.post(url, {"type": "tpe", "batch": 4}, format="json")
    assert response.status_code == 400 and "n" in response.json()
    assert not Sweep.objects.filter(experiment=experiment).exists()


def test_mcp_and_the_web_start_form_offer_tpe():
    from apps.web.forms_live import SweepForm

    args = RunSweepArgs(experiment_id="00000000-0000-0000-0000-000000000001", type="tpe", n=8,
                        options={"n_startup_trials": 2})
    assert args.type == "tpe" and args.options == {"n_startup_trials": 2}
    assert "tpe" in dict(SweepForm().fields["type"].choices)


@pytest.mark.django_db
def test_the_live_page_lists_tpe_among_the_sweep_types(client, owner, demo):
    client.force_login(owner)
    page = client.get(f"/experiments/{demo().pk}/").content.decode()
    assert '<option value="tpe"' in page


def clean_points(api, demo) -> list[dict]:
    experiment = demo()
    sweep = start(api, experiment, **TPE)
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.COMPLETED
    assert api.delete(f"/api/v1/experiments/{experiment.pk}/cache").status_code == 200
    return points(sweep)


@pytest.mark.django_db(transaction=True)
def test_a_tpe_sweep_paused_resumed_and_killed_plans_exactly_what_a_clean_one_does(
    api, demo, endpoint, fake_llm, worker
):
    expected = clean_points(api, demo)
    throttle(endpoint, fake_llm, slots=2, latency_ms=40)
    worker.start()
    experiment = demo()
    sweep = start(api, experiment, **TPE)

    worker.wait_for(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).count() >= 2,
                    what="two runs of the first batch")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code == 200
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the paused driver to drain")
    assert status_of(sweep) == Sweep.Status.PAUSED
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200

    # Killed while the second batch runs: the next driver continues the search from the stored runs.
    worker.wait_for(lambda: Run.objects.filter(sweep=sweep).count() > BATCH
                    and Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the second batch to start")
    worker.kill()
    assert status_of(sweep) == Sweep.Status.RUNNING
    Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))  # instead of waiting out the dead lease
    worker.start()
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=60, what="the sweep to complete")

    assert points(sweep) == expected and len(expected) == N
    runs = Run.objects.filter(sweep=sweep)
    assert set(runs.values_list("status", flat=True)) <= {Run.Status.COMPLETED, Run.Status.CACHED}
    per_call = StageResult.objects.filter(run__sweep=sweep).values("run", "item_id").annotate(n=Count("id"))
    assert per_call.count() == N * ITEMS and {c["n"] for c in per_call} == {1}
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert kinds.count("experiment.interrupted") == 1 and kinds.count("experiment.paused") == 1

"""What is executed is what is validated: points, redirects, forks, guided proposals and the worker."""

import pytest

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Score, Sweep
from apps.runs.services.guided import guided_next_batch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def their_endpoint(other_user, fake_llm):
    return Endpoint.objects.create(owner=other_user, label="theirs", base_url=fake_llm.base_url)


def adhoc(api, experiment, point, **extra):
    return api.post("/api/v1/runs", {"experiment": str(experiment.pk), "point": point, **extra}, format="json")


def drive_every_sweep():
    for sweep_id in Sweep.objects.values_list("pk", flat=True):
        sweep_drive(str(sweep_id))


def test_a_point_naming_another_users_endpoint_is_refused_and_nothing_is_called(
        api, make_experiment, their_endpoint, enqueued, fake_llm):
    experiment = make_experiment(n_items=1)
    response = adhoc(api, experiment, {"stages.0.endpoint": str(their_endpoint.pk)})
    assert response.status_code == 400
    assert "point.stages.0.endpoint" in response.json()
    drive_every_sweep()
    assert Sweep.objects.count() == 0 and Run.objects.count() == 0
    assert fake_llm.stats["chat"] == 0


@pytest.mark.parametrize(("path", "value"), [
    ("stages.0.params.temperature", 99),
    ("stages.1.params.max_tokens", -5),
    ("stages.0.params.top_p", "high"),
    ("stages.0.model", ""),
    ("stages.0.prompt_template", "{{ previous }}"),
])
def test_a_point_value_is_checked_like_the_stage_field_it_sets(api, make_experiment, enqueued, path, value):
    response = adhoc(api, make_experiment(n_items=1), {path: value})
    assert response.status_code == 400
    assert f"point.{path}" in response.json()
    assert Run.objects.count() == 0


@pytest.mark.parametrize("path", ["stages.0.colour", "stages.7.model", "stages.0.name", "name",
                                  "stages.0.params.stream", "stages." + "9" * 5000 + ".model"])
def test_a_point_with_an_unknown_path_is_refused_naming_the_path(api, make_experiment, enqueued, path):
    response = adhoc(api, make_experiment(n_items=1), {path: "x"})
    assert response.status_code == 400
    assert f"point.{path}" in response.json()
    assert Sweep.objects.count() == 0


def test_a_point_over_inline_stages_is_validated_with_them(api, make_experiment, endpoint, their_endpoint, enqueued):
    experiment = make_experiment(n_items=1)
    stages = [{"name": "only", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}"}]
    response = adhoc(api, experiment, {"stages.0.endpoint": str(their_endpoint.pk)}, pipeline_stages=stages)
    assert response.status_code == 400 and "point.stages.0.endpoint" in response.json()
    response = adhoc(api, experiment, {"stages.0.params.temperature": 0.7}, pipeline_stages=stages)
    assert response.status_code == 202, response.content
    assert Run.objects.get().config["stages"][0]["params"] == {"temperature": 0.7}


def test_a_valid_point_runs_with_its_values_normalized(api, make_experiment, endpoint, enqueued):
    response = adhoc(api, make_experiment(n_items=1), {"stages.0.endpoint": str(endpoint.pk).upper(),
                                                         "stages.1.params.max_tokens": 12.0})
    assert response.status_code == 202, response.content
    run = Run.objects.get()
    assert run.point == {"stages.0.endpoint": str(endpoint.pk), "stages.1.params.max_tokens": 12}
    assert run.config["stages"][0]["endpoint"] == str(endpoint.pk)


@pytest.mark.parametrize("axis", [
    {"path": "stages.0.endpoint", "values": ["THEIRS"]},
    {"path": "stages.0.params.temperature", "values": [0.5, 99]},
    {"path": "stages.0.params.temperature", "min": 0, "max": 99, "step": 1},
    {"path": "stages.1.params.max_tokens", "min": -5, "max": 10, "distribution": "int"},
])
def test_a_redirect_to_a_space_outside_the_rules_is_refused_and_changes_nothing(
        api, make_experiment, their_endpoint, enqueued, axis):
    experiment = make_experiment(n_items=1)
    sweep = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    assert sweep.status_code == 202
    if axis.get("values") == ["THEIRS"]:
        axis = {**axis, "values": [str(their_endpoint.pk)]}
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect", {"parameter_space": [axis]}, format="json")
    assert response.status_code == 400
    assert any(key.startswith("parameter_space.0") for key in response.json())
    assert Run.objects.count() == 6 and not Run.objects.filter(config__stages__0__endpoint=str(their_endpoint.pk))


def test_another_user_cannot_fork_my_run(api, other_api, make_experiment, enqueued):
    experiment = make_experiment(n_items=1)
    api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    run = Run.objects.first()
    response = other_api.post(f"/api/v1/runs/{run.pk}/fork", {"parameter_space": []}, format="json")
    assert response.status_code == 404
    assert Experiment.objects.count() == 1


def test_a_fork_of_a_run_whose_config_names_a_foreign_endpoint_is_refused(
        api, make_experiment, their_endpoint, enqueued):
    experiment = make_experiment(n_items=1)
    api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    run = Run.objects.first()
    config = run.config
    config["stages"][0]["endpoint"] = str(their_endpoint.pk)
    Run.objects.filter(pk=run.pk).update(config=config)
    response = api.post(f"/api/v1/runs/{run.pk}/fork", {"parameter_space": []}, format="json")
    assert response.status_code == 400 and "pipeline_stages.0.endpoint" in response.json()
    assert Experiment.objects.count() == 1


def test_the_worker_refuses_a_run_whose_stored_config_names_another_users_endpoint(
        api, make_experiment, their_endpoint, enqueued, fake_llm):
    experiment = make_experiment(n_items=2, space=[])
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    run = Run.objects.get(sweep=sweep)
    config = run.config
    for stage in config["stages"]:
        stage["endpoint"] = str(their_endpoint.pk)
    Run.objects.filter(pk=run.pk).update(config=config)  # e.g. edited by hand in the database

    sweep_drive(str(sweep.pk))

    run.refresh_from_db()
    assert fake_llm.stats["chat"] == 0
    assert run.status == Run.Status.FAILED
    assert f"endpoint {their_endpoint.pk} is not available" in run.error


def test_a_judge_naming_another_users_endpoint_is_never_called(
        api, make_experiment, endpoint, their_endpoint, enqueued, fake_llm):
    stages = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
               "prompt_template": "REPLY: fine"}]
    judge = {"type": "llm_judge", "name": "judge", "weight": 1,
             "options": {"endpoint": str(endpoint.pk), "model": "fake-chat", "prompt": "REPLY: SCORE: 7"}}
    experiment = make_experiment(stages=stages, n_items=1, space=[], scoring_config={"scorers": [judge]})
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "grid"}, format="json")
    judge["options"]["endpoint"] = str(their_endpoint.pk)
    Experiment.objects.filter(pk=experiment.pk).update(scoring_config={"scorers": [judge]})  # edited by hand

    sweep_drive(response.json()["sweep"]["id"])

    assert fake_llm.stats["chat"] == 1  # the stage's own call, no judge call
    score = Score.objects.get(scorer_name="judge")
    assert score.value is None and f"endpoint {their_endpoint.pk} is not available" in score.error


def test_a_guided_proposal_outside_the_owners_endpoints_is_not_planned(
        api, make_experiment, endpoint, their_endpoint, enqueued, fake_llm):
    experiment = make_experiment(n_items=1, space=[{"path": "stages.0.endpoint", "values": [str(endpoint.pk)]}],
                                 scoring_config={"scorers": [{"type": "length", "options": {"max": 100}}]})
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {"type": "guided", "n": 1, "batch": 2},
                        format="json")
    assert response.status_code == 202, response.content
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    # Tamper with the stored search space, as a damaged or hand-edited row would.
    request = sweep.request
    request["guided"]["state"]["space"] = [{"path": "stages.0.endpoint", "values": [str(their_endpoint.pk)]}]
    request["guided"]["n"] = 3
    Run.objects.filter(sweep=sweep).update(status=Run.Status.COMPLETED)
    Sweep.objects.filter(pk=sweep.pk).update(request=request, status=Sweep.Status.RUNNING)

    guided_next_batch(sweep_id=sweep.pk)

    assert not Run.objects.filter(config__stages__0__endpoint=str(their_endpoint.pk)).exists()

"""The experiments REST API: CRUD, validation errors by field, and who may do what."""

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from apps.core.errors import Forbidden, InvalidInput
from apps.experiments import services
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run

LIST = "/api/v1/experiments"


def detail_url(experiment) -> str:
    return f"/api/v1/experiments/{experiment.pk}"


def payload(project, endpoint, **changes) -> dict:
    data = {
        "project": str(project.pk),
        "name": "Summaries",
        "description": "Try two models",
        "sample_data": [{"id": "a", "input": "The cat sat."}, {"id": "b", "input": "It rained.", "reference": "Rain."}],
        "pipeline_stages": [
            {"name": "draft", "endpoint": str(endpoint.pk), "model": "m1", "prompt_template": "Summarize: {{ input }}",
             "params": {"temperature": 0.2}},
        ],
        "scoring_config": {"scorers": [{"type": "length", "weight": 2, "options": {"max": 100}},
                                       {"type": "keyword", "options": {"keywords": ["cat"]}}]},
        "parameter_space": [
            {"path": "stages.0.model", "values": ["m1", "m2"]},
            {"path": "stages.0.params.temperature", "min": 0, "max": 1, "step": 0.5},
        ],
        "repeats": 2,
    }
    data.update(changes)
    return data


@pytest.fixture
def experiment(api, project, endpoint):
    response = api.post(LIST, payload(project, endpoint), format="json")
    assert response.status_code == 201, response.json()
    return Experiment.objects.get(pk=response.json()["id"])


def make_run(experiment, **fields) -> Run:
    defaults = {"config": {}, "config_hash": f"{Run.objects.count():064d}", "status": Run.Status.COMPLETED}
    return Run.objects.create(experiment=experiment, **{**defaults, **fields})


def stored(experiment) -> dict:
    row = Experiment.objects.get(pk=experiment.pk)
    return {**model_to_dict(row), "updated_at": row.updated_at}


# -- create ------------------------------------------------------------------------------------

def test_owner_creates_an_experiment_with_a_normalized_config(api, project, endpoint):
    response = api.post(LIST, payload(project, endpoint, sample_data=["just text"]), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["project"] == str(project.pk)
    assert body["status"] == "draft"
    assert body["sample_data"] == [{"id": "1", "input": "just text"}]
    assert body["pipeline_stages"][0]["params"] == {"temperature": 0.2}
    assert body["scoring_config"]["scorers"][1]["name"] == "keyword"
    assert body["runs"] == {"total": 0, "by_status": {s: 0 for s in Run.Status.values}, "top": []}
    assert Experiment.objects.get(pk=body["id"]).repeats == 2


def test_creating_in_another_users_project_is_a_400_naming_project(api, other_project, endpoint):
    response = api.post(LIST, payload(other_project, endpoint), format="json")
    assert response.status_code == 400
    assert "project" in response.json()
    assert not Experiment.objects.exists()


def test_creating_without_a_project_is_a_400_naming_project(api, project, endpoint):
    data = payload(project, endpoint)
    del data["project"]
    response = api.post(LIST, data, format="json")
    assert response.status_code == 400
    assert "project" in response.json()


def test_another_users_endpoint_is_an_unknown_endpoint(api, project, other_endpoint):
    response = api.post(LIST, payload(project, other_endpoint), format="json")
    assert response.status_code == 400
    assert response.json()["pipeline_stages.0.endpoint"] == ["Unknown endpoint."]


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.post(LIST, ["not", "an", "object"], format="json")
    assert response.status_code == 400


BAD_INPUTS = {
    "unknown endpoint": (
        lambda d: d["pipeline_stages"][0].update(endpoint="8c2f9a5e-1111-4222-8333-944445555666"),
        "pipeline_stages.0.endpoint",
    ),
    "bad parameter path": (lambda d: d["parameter_space"][0].update(path="stages.0.colour"), "parameter_space.0.path"),
    "path to a missing stage": (
        lambda d: d["parameter_space"][0].update(path="stages.3.model"), "parameter_space.0.path",
    ),
    "empty values": (lambda d: d["parameter_space"][0].update(values=[]), "parameter_space.0.values"),
    "non-numeric range": (lambda d: d["parameter_space"][1].update(min="low"), "parameter_space.1.min"),
    "min above max": (lambda d: d["parameter_space"][1].update(min=1, max=0.5), "parameter_space.1.min"),
    "zero step": (lambda d: d["parameter_space"][1].update(step=0), "parameter_space.1.step"),
    "negative step": (lambda d: d["parameter_space"][1].update(step=-0.5), "parameter_space.1.step"),
    "unknown scorer": (
        lambda d: d["scoring_config"]["scorers"][1].update(type="vibes"), "scoring_config.scorers.1.type",
    ),
    "negative weight": (
        lambda d: d["scoring_config"]["scorers"][0].update(weight=-1), "scoring_config.scorers.0.weight",
    ),
    "sample data not a list": (lambda d: d.update(sample_data="a, b, c"), "sample_data"),
    "item without input": (lambda d: d["sample_data"].append({"id": "c"}), "sample_data.2.input"),
    "item that is a number": (lambda d: d["sample_data"].append(3), "sample_data.2"),
    "variable missing in an item": (
        lambda d: d["pipeline_stages"][0].update(prompt_template="{{ input }} / {{ reference }}"),
        "pipeline_stages.0.prompt_template",
    ),
    "previous in stage 0": (
        lambda d: d["pipeline_stages"][0].update(system_prompt="Go on from {{ previous }}"),
        "pipeline_stages.0.system_prompt",
    ),
    "sandbox escape attempt": (
        lambda d: d["pipeline_stages"][0].update(prompt_template="{% macro m() %}{% endmacro %}"),
        "pipeline_stages.0.prompt_template",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_created(api, project, endpoint, case):
    change, field = BAD_INPUTS[case]
    data = payload(project, endpoint)
    change(data)
    response = api.post(LIST, data, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Experiment.objects.exists()


def test_the_missing_variable_error_names_the_stage_variable_and_item(api, project, endpoint):
    data = payload(project, endpoint)
    BAD_INPUTS["variable missing in an item"][0](data)
    body = api.post(LIST, data, format="json").json()
    assert body["pipeline_stages.0.prompt_template"] == ["stage 'draft': variable 'reference' is missing from item 'a'"]


def test_json_with_nul_bytes_is_rejected(api, project, endpoint):
    response = api.post(LIST, payload(project, endpoint, name="bad\x00name"), format="json")
    assert response.status_code == 400


def test_the_service_rejects_nul_bytes_for_callers_without_the_json_parser(owner, project, endpoint):
    data = payload(project, endpoint, sample_data=[{"input": "a\x00b"}])
    with pytest.raises(InvalidInput) as caught:
        services.experiment_create(user=owner, project=project, data=data)
    assert "sample_data.0.input" in caught.value.errors
    assert not Experiment.objects.exists()


def test_the_service_refuses_another_users_project(owner, other_project, endpoint):
    with pytest.raises(InvalidInput) as caught:
        services.experiment_create(user=owner, project=other_project, data=payload(other_project, endpoint))
    assert "project" in caught.value.errors


def test_the_update_service_refuses_a_user_who_does_not_own_the_experiment(other_user, experiment):
    with pytest.raises(Forbidden):
        services.experiment_update(user=other_user, experiment=experiment, data={"name": "x"}, partial=True)
    assert Experiment.objects.get(pk=experiment.pk).name == "Summaries"


# -- list --------------------------------------------------------------------------------------

def test_owner_lists_own_experiments_with_run_counts(api, experiment):
    make_run(experiment, weighted_score=0.4)
    make_run(experiment, status=Run.Status.CACHED, weighted_score=0.9)
    make_run(experiment, status=Run.Status.COMPLETED, weighted_score=0.95, approval=Run.Approval.REJECTED)
    make_run(experiment, status=Run.Status.FAILED)
    response = api.get(LIST)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(experiment.pk)
    assert row["project_name"] == "Mine"
    assert (row["run_count"], row["completed_run_count"], row["best_score"]) == (4, 3, 0.9)
    assert "sample_data" not in row


def test_another_user_does_not_see_my_experiments(other_api, experiment):
    response = other_api.get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_a_guest_sees_all_experiments_when_guest_access_is_on(anon_api, guest_mode, experiment, other_project):
    Experiment.objects.create(project=other_project, name="Theirs")
    response = anon_api.get(LIST)
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_anonymous_listing_is_refused_without_guest_access(anon_api, experiment):
    assert anon_api.get(LIST).status_code == 401


def test_the_list_filters_by_project_and_status_and_orders_by_name(api, owner, experiment, project):
    second = Project.objects.create(owner=owner, name="Second")
    Experiment.objects.create(project=second, name="Alpha", status=Experiment.Status.COMPLETED)
    Experiment.objects.create(project=project, name="Beta", status=Experiment.Status.COMPLETED)
    names = lambda response: [row["name"] for row in response.json()["results"]]  # noqa: E731
    assert names(api.get(LIST, {"project": str(project.pk), "ordering": "name"})) == ["Beta", "Summaries"]
    assert names(api.get(LIST, {"status": "completed", "ordering": "-name"})) == ["Beta", "Alpha"]
    assert names(api.get(LIST, {"ordering": "name", "page_size": 2})) == ["Alpha", "Beta"]


def test_bad_filters_are_a_400_naming_the_filter(api, experiment):
    assert "project" in api.get(LIST, {"project": "not-a-uuid"}).json()
    assert "status" in api.get(LIST, {"status": "exploded"}).json()


def test_listing_takes_a_fixed_number_of_queries(api, owner, project, django_assert_max_num_queries):
    for n in range(15):
        experiment = Experiment.objects.create(project=project, name=f"E{n}")
        make_run(experiment, weighted_score=n / 20)
    with django_assert_max_num_queries(6):
        response = api.get(LIST)
    assert response.json()["count"] == 15


# -- detail ------------------------------------------------------------------------------------

def test_owner_reads_the_detail_with_run_summaries(api, experiment):
    for n in range(7):
        make_run(experiment, weighted_score=n / 10, tokens_in=10, tokens_out=n, cost_estimate=Decimal("0.01"))
    make_run(experiment, status=Run.Status.RUNNING)
    make_run(experiment, weighted_score=0.99, approval=Run.Approval.REJECTED)
    body = api.get(detail_url(experiment)).json()
    assert body["sample_data"][0] == {"id": "a", "input": "The cat sat."}
    assert body["runs"]["total"] == 9
    assert body["runs"]["by_status"]["completed"] == 8
    assert body["runs"]["by_status"]["running"] == 1
    assert [run["weighted_score"] for run in body["runs"]["top"]] == [0.6, 0.5, 0.4, 0.3, 0.2]
    assert body["runs"]["top"][0]["tokens"] == 16
    assert body["runs"]["top"][0]["cost_estimate"] == "0.010000"


def test_another_user_gets_404_for_my_experiment(other_api, experiment):
    assert other_api.get(detail_url(experiment)).status_code == 404


def test_a_guest_reads_any_experiment_when_guest_access_is_on(anon_api, guest_mode, experiment):
    response = anon_api.get(detail_url(experiment))
    assert response.status_code == 200
    assert response.json()["name"] == "Summaries"


def test_anonymous_detail_is_refused_without_guest_access(anon_api, experiment):
    assert anon_api.get(detail_url(experiment)).status_code == 401


def test_a_missing_experiment_is_a_404(api):
    assert api.get("/api/v1/experiments/8c2f9a5e-1111-4222-8333-944445555666").status_code == 404


# -- update ------------------------------------------------------------------------------------

def test_put_replaces_the_given_fields_and_keeps_the_others(api, experiment, endpoint):
    stages = [{"name": "only", "endpoint": str(endpoint.pk), "model": "m9", "prompt_template": "{{ input }}!"}]
    response = api.put(detail_url(experiment), {"name": "Renamed", "pipeline_stages": stages}, format="json")
    assert response.status_code == 200, response.json()
    row = Experiment.objects.get(pk=experiment.pk)
    assert row.name == "Renamed"
    assert row.pipeline_stages[0]["model"] == "m9"
    assert row.repeats == 2
    assert len(row.sample_data) == 2
    assert response.json()["pipeline_stages"][0]["name"] == "only"


def test_put_without_the_required_fields_is_a_400(api, experiment):
    before = stored(experiment)
    response = api.put(detail_url(experiment), {"repeats": 3}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "pipeline_stages"}
    assert stored(experiment) == before


def test_patch_changes_one_field(api, experiment):
    response = api.patch(detail_url(experiment), {"repeats": 5, "budget_usd": 2.5}, format="json")
    assert response.status_code == 200
    row = Experiment.objects.get(pk=experiment.pk)
    assert (row.repeats, row.budget_usd) == (5, Decimal("2.5000"))


def test_a_failed_put_leaves_the_stored_row_unchanged(api, experiment, endpoint):
    before = stored(experiment)
    stages = [{"endpoint": str(endpoint.pk), "model": "m", "prompt_template": "{{ missing_everywhere }}"}]
    response = api.put(
        detail_url(experiment),
        {"name": "Changed", "description": "new", "pipeline_stages": stages, "repeats": 4},
        format="json",
    )
    assert response.status_code == 400
    assert "pipeline_stages.0.prompt_template" in response.json()
    assert stored(experiment) == before


def test_an_update_that_breaks_a_reference_is_refused(api, experiment):
    before = stored(experiment)
    response = api.patch(detail_url(experiment), {"sample_data": [{"id": "z", "input": {"q": 1}}]}, format="json")
    assert response.status_code == 200
    assert api.patch(detail_url(experiment), {"parameter_space": [{"path": "stages.1.model", "values": ["x"]}]},
                     format="json").status_code == 400
    assert stored(experiment)["parameter_space"] == before["parameter_space"]


def test_another_user_cannot_update_my_experiment(other_api, experiment):
    before = stored(experiment)
    assert other_api.put(detail_url(experiment), {"name": "x", "pipeline_stages": []}, format="json").status_code == 404
    assert other_api.patch(detail_url(experiment), {"name": "x"}, format="json").status_code == 404
    assert stored(experiment) == before


def test_a_guest_cannot_update_or_create(anon_api, guest_mode, experiment, project, endpoint):
    before = stored(experiment)
    assert anon_api.put(detail_url(experiment), {"name": "x"}, format="json").status_code in (401, 403)
    assert anon_api.patch(detail_url(experiment), {"name": "x"}, format="json").status_code in (401, 403)
    assert anon_api.post(LIST, payload(project, endpoint), format="json").status_code in (401, 403)
    assert stored(experiment) == before
    assert Experiment.objects.count() == 1


def test_anonymous_cannot_update_or_create(anon_api, experiment, project, endpoint):
    assert anon_api.patch(detail_url(experiment), {"name": "x"}, format="json").status_code == 401
    assert anon_api.post(LIST, payload(project, endpoint), format="json").status_code == 401
    assert Experiment.objects.get(pk=experiment.pk).name == "Summaries"


# -- delete ------------------------------------------------------------------------------------

def test_owner_deletes_an_experiment_with_its_runs(api, experiment):
    make_run(experiment)
    assert api.delete(detail_url(experiment)).status_code == 204
    assert not Experiment.objects.exists()
    assert not Run.objects.exists()


def test_another_user_gets_404_deleting_my_experiment(other_api, experiment):
    assert other_api.delete(detail_url(experiment)).status_code == 404
    assert Experiment.objects.filter(pk=experiment.pk).exists()


def test_a_guest_cannot_delete(anon_api, guest_mode, experiment):
    assert anon_api.delete(detail_url(experiment)).status_code in (401, 403)
    assert Experiment.objects.filter(pk=experiment.pk).exists()


def test_anonymous_cannot_delete(anon_api, experiment):
    assert anon_api.delete(detail_url(experiment)).status_code == 401
    assert Experiment.objects.filter(pk=experiment.pk).exists()

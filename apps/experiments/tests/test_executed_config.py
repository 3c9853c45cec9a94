"""Every endpoint an experiment names is the owner's, every axis value obeys its field's rules, and
endpoint ids are shown to the owner only."""

import pytest

from apps.experiments.models import Experiment

LIST = "/api/v1/experiments"


def payload(project, endpoint, **changes) -> dict:
    return {
        "project": str(project.pk), "name": "Summaries",
        "sample_data": [{"id": "a", "input": "The cat sat.", "reference": "A cat."}],
        "pipeline_stages": [{"name": "draft", "endpoint": str(endpoint.pk), "model": "m1",
                             "prompt_template": "Summarize: {{ input }}", "params": {"temperature": 0.2}}],
        "scoring_config": {"scorers": [{"type": "length", "options": {"max": 100}}]},
        "parameter_space": [{"path": "stages.0.model", "values": ["m1", "m2"]}],
        **changes,
    }


def refused(api, body) -> dict:
    response = api.post(LIST, body, format="json")
    assert response.status_code == 400, response.content
    assert Experiment.objects.count() == 0
    return response.json()


def test_a_stage_naming_another_users_endpoint_is_refused(api, project, other_endpoint):
    body = payload(project, other_endpoint)
    assert "pipeline_stages.0.endpoint" in refused(api, body)


def test_an_endpoint_axis_with_another_users_endpoint_is_refused_at_save(api, project, endpoint, other_endpoint):
    axis = {"path": "stages.0.endpoint", "values": [str(endpoint.pk), str(other_endpoint.pk)]}
    errors = refused(api, payload(project, endpoint, parameter_space=[axis]))
    assert list(errors) == ["parameter_space.0.values.1"]


@pytest.mark.parametrize(("axis", "field"), [
    ({"path": "stages.0.params.temperature", "values": [0.5, 99]}, "parameter_space.0.values.1"),
    ({"path": "stages.0.params.max_tokens", "values": [-5]}, "parameter_space.0.values.0"),
    ({"path": "stages.0.params.temperature", "min": 0, "max": 99, "distribution": "uniform"}, "parameter_space.0"),
    ({"path": "stages.0.params.max_tokens", "min": -5, "max": 9, "step": 1}, "parameter_space.0"),
    ({"path": "stages.0.model", "values": ["m1", ""]}, "parameter_space.0.values.1"),
])
def test_axis_values_and_range_bounds_obey_the_rules_of_their_stage_field(api, project, endpoint, axis, field):
    assert field in refused(api, payload(project, endpoint, parameter_space=[axis]))


@pytest.mark.parametrize("scorer", [
    {"type": "llm_judge", "options": {"endpoint": "THEIRS", "model": "judge"}},
    {"type": "embedding_similarity", "options": {"endpoint": "THEIRS", "model": "embed"}},
])
def test_a_judge_or_embedding_scorer_naming_another_users_endpoint_is_refused(
        api, project, endpoint, other_endpoint, scorer):
    scorer["options"]["endpoint"] = str(other_endpoint.pk)
    errors = refused(api, payload(project, endpoint, scoring_config={"scorers": [scorer]}))
    assert "scoring_config.scorers.0.options.endpoint" in errors


@pytest.fixture
def experiment_with_endpoints(api, project, endpoint):
    body = payload(
        project, endpoint,
        parameter_space=[{"path": "stages.0.endpoint", "values": [str(endpoint.pk)]},
                         {"path": "stages.0.model", "values": ["m1", "m2"]}],
        scoring_config={"scorers": [{"type": "llm_judge", "options": {"endpoint": str(endpoint.pk), "model": "j"}},
                                    {"type": "length", "options": {"max": 100}}]},
    )
    response = api.post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    return Experiment.objects.get(pk=response.json()["id"])


def test_a_guest_sees_no_endpoint_ids_in_an_experiment(anon_api, guest_mode, experiment_with_endpoints, endpoint):
    response = anon_api.get(f"{LIST}/{experiment_with_endpoints.pk}")
    assert response.status_code == 200
    assert str(endpoint.pk) not in response.content.decode()
    body = response.json()
    assert body["pipeline_stages"][0]["endpoint"] is None
    assert body["parameter_space"][0]["values"] == [None]
    assert body["parameter_space"][1]["values"] == ["m1", "m2"]
    assert body["scoring_config"]["scorers"][0]["options"]["endpoint"] is None
    assert body["pipeline_stages"][0]["model"] == "m1"


def test_the_owner_still_sees_other_endpoint_ids(api, guest_mode, experiment_with_endpoints, endpoint):
    body = api.get(f"{LIST}/{experiment_with_endpoints.pk}").json()
    assert body["pipeline_stages"][0]["endpoint"] == str(endpoint.pk)
    assert body["parameter_space"][0]["values"] == [str(endpoint.pk)]
    assert body["scoring_config"]["scorers"][0]["options"]["endpoint"] == str(endpoint.pk)


def test_an_axis_path_with_an_absurd_stage_index_is_refused_naming_the_path(api, project, endpoint):
    axis = {"path": "stages." + "9" * 5000 + ".model", "values": ["m1"]}
    assert "parameter_space.0.path" in refused(api, payload(project, endpoint, parameter_space=[axis]))

"""Guests read every user's runs, sweeps, leaderboards and saved configs, but never an endpoint id."""

import pytest

from apps.exports.models import SavedConfig
from apps.exports.tests.builders import make_endpoint_axis_sweep, make_run


@pytest.fixture
def setup(owner):
    sweep, (first, second) = make_endpoint_axis_sweep(owner)
    experiment = sweep.experiment
    run = make_run(experiment, sweep=sweep, score=0.8, point={"stages.0.endpoint": str(second.pk)})
    saved = SavedConfig.objects.create(project=experiment.project, name="best", config=run.config, run=run)
    return {"experiment": experiment, "run": run, "saved": saved, "ids": [str(first.pk), str(second.pk)]}


def urls(setup) -> dict[str, str]:
    experiment, run = setup["experiment"], setup["run"]
    project = experiment.project_id
    return {
        "run detail": f"/api/v1/runs/{run.pk}",
        "run list": f"/api/v1/experiments/{experiment.pk}/runs",
        "sweep list": f"/api/v1/experiments/{experiment.pk}/sweeps",
        "sweep detail": f"/api/v1/sweeps/{run.sweep_id}",
        "leaderboard": f"/api/v1/experiments/{experiment.pk}/leaderboard",
        "saved configs": f"/api/v1/projects/{project}/configs",
        "saved config": f"/api/v1/projects/{project}/configs/{setup['saved'].pk}",
    }


PAGES = ["run detail", "run list", "sweep list", "sweep detail", "leaderboard", "saved configs", "saved config"]


@pytest.mark.parametrize("page", PAGES)
def test_a_guest_sees_no_endpoint_id_in_run_data(anon_api, guest_mode, setup, page):
    response = anon_api.get(urls(setup)[page])
    assert response.status_code == 200, response.content
    body = response.content.decode()
    assert not [pk for pk in setup["ids"] if pk in body]


@pytest.mark.parametrize("page", PAGES)
def test_the_owner_still_sees_their_endpoint_ids(api, setup, page):
    response = api.get(urls(setup)[page])
    assert response.status_code == 200, response.content
    assert setup["ids"][1] in response.content.decode()


def test_a_guest_sees_masked_values_in_the_same_shape(anon_api, guest_mode, setup):
    run = anon_api.get(urls(setup)["run detail"]).json()
    assert run["point"] == {"stages.0.endpoint": None}
    assert [stage["endpoint"] for stage in run["config"]["stages"]] == [None, None]
    assert [stage["model"] for stage in run["config"]["stages"]] == ["small-model", "small-model"]
    sweep = anon_api.get(urls(setup)["sweep detail"]).json()
    assert sweep["parameter_space"] == [{"path": "stages.0.endpoint", "values": [None, None]}]
    row = anon_api.get(urls(setup)["leaderboard"]).json()["results"][0]
    assert row["point"] == {"stages.0.endpoint": None} and row["weighted_score"] == 0.8


def test_a_saved_config_in_any_shape_hides_endpoint_ids_from_guests(anon_api, guest_mode, setup):
    first, second = setup["ids"]
    free_form = {"pipeline_stages": [{"endpoint": first, "model": "m"}], "point": {"stages.0.endpoint": second},
                 "parameter_space": [{"path": "stages.1.endpoint", "values": [first]}],
                 "scorers": [{"type": "llm_judge", "options": {"endpoint": second, "rubric": "be kind"}}]}
    saved = SavedConfig.objects.create(project=setup["experiment"].project, name="odd", config=free_form)
    body = anon_api.get(f"/api/v1/projects/{saved.project_id}/configs/{saved.pk}").json()
    assert body["config"] == {"pipeline_stages": [{"endpoint": None, "model": "m"}],
                              "point": {"stages.0.endpoint": None},
                              "parameter_space": [{"path": "stages.1.endpoint", "values": [None]}],
                              "scorers": [{"type": "llm_judge", "options": {"endpoint": None, "rubric": "be kind"}}]}


def test_a_run_error_naming_an_endpoint_hides_the_id_from_guests(anon_api, api, guest_mode, setup):
    run = setup["run"]
    run.status, run.error = "failed", f"stage 'extract': endpoint {setup['ids'][1]} is not available (deleted)"
    run.save()
    for page in ("run detail", "run list"):
        assert setup["ids"][1] not in anon_api.get(urls(setup)[page]).content.decode()
        assert setup["ids"][1] in api.get(urls(setup)[page]).content.decode()
    assert "is not available" in anon_api.get(urls(setup)["run detail"]).json()["error"]

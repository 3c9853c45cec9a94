import pytest

from apps.experiments.models import Experiment
from apps.exports.models import ExportRecord, SavedConfig
from apps.exports.saved_configs import saved_config_create
from apps.projects.services import project_create
from apps.runs.models import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(owner):
    return project_create(owner=owner, name="Mine")


@pytest.fixture
def run(project):
    experiment = Experiment.objects.create(project=project, name="e")
    return Run.objects.create(experiment=experiment, config={"m": 1}, config_hash="a" * 64, weighted_score=0.81)


@pytest.fixture
def foreign_run(other_user):
    experiment = Experiment.objects.create(project=project_create(owner=other_user, name="Theirs"), name="e")
    return Run.objects.create(experiment=experiment, config={}, config_hash="b" * 64)


def configs_url(project, suffix=""):
    return f"/api/v1/projects/{project.pk}/configs{suffix}"


def test_owner_saves_a_config_linked_to_a_run_and_inherits_its_score(api, project, run):
    body = {"name": "best so far", "config": {"stages": [{"model": "fake-chat"}]}, "run": str(run.pk)}
    response = api.post(configs_url(project), body, format="json")
    assert response.status_code == 201
    assert response.json()["run"] == str(run.pk)
    assert response.json()["score"] == 0.81
    listed = api.get(configs_url(project)).json()
    assert [c["name"] for c in listed["results"]] == ["best so far"]


def test_a_run_from_another_project_is_rejected_naming_run(api, project, foreign_run):
    body = {"name": "x", "config": {}, "run": str(foreign_run.pk)}
    response = api.post(configs_url(project), body, format="json")
    assert response.status_code == 400
    assert "run" in response.json()
    assert not SavedConfig.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "config": [1, 2]}, "config"),
        ({"name": "", "config": {}}, "name"),
        ({"name": "x", "config": {}, "score": 1.5}, "score"),
        ({"name": "x", "config": {}, "run": "not-a-uuid"}, "run"),
    ],
)
def test_bad_config_input_names_the_field(api, project, body, field):
    response = api.post(configs_url(project), body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_owner_deletes_a_saved_config(api, project):
    saved = saved_config_create(project=project, name="x", config={})
    assert api.delete(configs_url(project, f"/{saved.pk}")).status_code == 204
    assert not SavedConfig.objects.exists()


def test_another_user_gets_404_for_my_configs_and_exports(other_api, project):
    saved = saved_config_create(project=project, name="x", config={})
    assert other_api.get(configs_url(project)).status_code == 404
    assert other_api.post(configs_url(project), {"name": "y", "config": {}}, format="json").status_code == 404
    assert other_api.delete(configs_url(project, f"/{saved.pk}")).status_code == 404
    assert other_api.get(f"/api/v1/projects/{project.pk}/exports").status_code == 404
    assert SavedConfig.objects.count() == 1


def test_a_config_id_from_another_project_is_404(api, project, other_user):
    theirs = saved_config_create(project=project_create(owner=other_user, name="T"), name="x", config={})
    assert api.delete(configs_url(project, f"/{theirs.pk}")).status_code == 404
    assert SavedConfig.objects.filter(pk=theirs.pk).exists()


def test_a_guest_reads_configs_and_exports_but_cannot_save_or_delete(anon_api, guest_mode, project):
    saved = saved_config_create(project=project, name="x", config={})
    assert anon_api.get(configs_url(project)).status_code == 200
    assert anon_api.get(f"/api/v1/projects/{project.pk}/exports").status_code == 200
    new = {"name": "g", "config": {}}
    assert anon_api.post(configs_url(project), new, format="json").status_code in (401, 403)
    assert anon_api.delete(configs_url(project, f"/{saved.pk}")).status_code in (401, 403)
    assert SavedConfig.objects.count() == 1


def test_anonymous_gets_401_for_configs_and_exports(anon_api, project):
    assert anon_api.get(configs_url(project)).status_code == 401
    assert anon_api.get(f"/api/v1/projects/{project.pk}/exports").status_code == 401


def test_export_history_lists_newest_first_with_experiment_and_author(api, owner, project, run):
    ExportRecord.objects.create(project=project, format="json", created_by=owner)
    ExportRecord.objects.create(
        project=project, format="report", experiment=run.experiment, run=run, created_by=owner
    )
    response = api.get(f"/api/v1/projects/{project.pk}/exports")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["format"] for r in results] == ["report", "json"]
    assert results[0]["experiment_name"] == "e"
    assert results[0]["created_by"] == "owner"
    assert results[1]["experiment"] is None

import pytest

from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.projects.services import project_create
from apps.runs.models import Run

pytestmark = pytest.mark.django_db


def make_run(experiment, *, score, approval=""):
    return Run.objects.create(
        experiment=experiment, config={}, config_hash=f"{score}".ljust(64, "0"),
        status=Run.Status.COMPLETED, weighted_score=score, approval=approval,
    )


@pytest.fixture
def project(owner):
    return project_create(owner=owner, name="Extraction", description="d", notes="n")


def test_owner_creates_a_project_and_gets_its_detail(api, owner):
    response = api.post("/api/v1/projects", {"name": "  Summaries ", "notes": "try small models"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Summaries"
    assert body["notes"] == "try small models"
    assert body["experiments"] == []
    assert Project.objects.get(pk=body["id"]).owner == owner


def test_a_blank_name_is_rejected_naming_the_field(api):
    response = api.post("/api/v1/projects", {"name": "   "}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Project.objects.exists()


def test_list_shows_only_my_projects_with_experiment_counts(api, owner, other_user, project):
    project_create(owner=other_user, name="Not mine")
    Experiment.objects.create(project=project, name="e1")
    response = api.get("/api/v1/projects")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "Extraction"
    assert body["results"][0]["experiment_count"] == 1


def test_list_searches_by_name_and_orders(api, owner):
    for name in ["beta tests", "Alpha", "gamma"]:
        project_create(owner=owner, name=name)
    names = [p["name"] for p in api.get("/api/v1/projects?search=ta&ordering=name").json()["results"]]
    assert names == ["beta tests"]
    names = [p["name"] for p in api.get("/api/v1/projects?ordering=name").json()["results"]]
    assert names == ["Alpha", "beta tests", "gamma"]


def test_detail_summarises_experiments_with_run_count_and_best_unrejected_score(api, project):
    experiment = Experiment.objects.create(project=project, name="Prompt A")
    make_run(experiment, score=0.4)
    make_run(experiment, score=0.7)
    make_run(experiment, score=0.9, approval=Run.Approval.REJECTED)
    Experiment.objects.create(project=project, name="Empty")
    response = api.get(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["notes"] == "n"
    summaries = {e["name"]: e for e in body["experiments"]}
    assert summaries["Prompt A"]["run_count"] == 3
    assert summaries["Prompt A"]["best_score"] == 0.7
    assert summaries["Prompt A"]["status"] == "draft"
    assert summaries["Empty"] == {**summaries["Empty"], "run_count": 0, "best_score": None}


def test_detail_queries_do_not_grow_with_experiments(api, project, django_assert_max_num_queries):
    for index in range(10):
        make_run(Experiment.objects.create(project=project, name=f"e{index}"), score=0.5)
    with django_assert_max_num_queries(8):
        assert api.get(f"/api/v1/projects/{project.pk}").status_code == 200


def test_owner_updates_with_patch_and_put(api, project):
    response = api.patch(f"/api/v1/projects/{project.pk}", {"notes": "new notes"}, format="json")
    assert response.status_code == 200
    assert response.json()["notes"] == "new notes"
    assert response.json()["name"] == "Extraction"
    response = api.put(f"/api/v1/projects/{project.pk}", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.name, project.notes) == ("Renamed", "new notes")


def test_put_without_a_name_is_rejected_and_changes_nothing(api, project):
    response = api.put(f"/api/v1/projects/{project.pk}", {"notes": "x"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    project.refresh_from_db()
    assert project.notes == "n"


def test_owner_deletes_a_project_and_its_experiments(api, project):
    Experiment.objects.create(project=project, name="e")
    assert api.delete(f"/api/v1/projects/{project.pk}").status_code == 204
    assert not Project.objects.exists()
    assert not Experiment.objects.exists()


def test_another_user_gets_404_for_my_project(other_api, project):
    url = f"/api/v1/projects/{project.pk}"
    assert other_api.get(url).status_code == 404
    assert other_api.patch(url, {"name": "hijack"}, format="json").status_code == 404
    assert other_api.put(url, {"name": "hijack"}, format="json").status_code == 404
    assert other_api.delete(url).status_code == 404
    project.refresh_from_db()
    assert project.name == "Extraction"


def test_a_guest_reads_every_project_but_cannot_change_any(anon_api, guest_mode, project, other_user):
    project_create(owner=other_user, name="Other's")
    assert anon_api.get("/api/v1/projects").json()["count"] == 2
    assert anon_api.get(f"/api/v1/projects/{project.pk}").status_code == 200
    assert anon_api.post("/api/v1/projects", {"name": "guest"}, format="json").status_code in (401, 403)
    url = f"/api/v1/projects/{project.pk}"
    assert anon_api.patch(url, {"name": "guest"}, format="json").status_code in (401, 403)
    assert anon_api.put(url, {"name": "guest"}, format="json").status_code in (401, 403)
    assert anon_api.delete(url).status_code in (401, 403)
    assert Project.objects.count() == 2
    project.refresh_from_db()
    assert project.name == "Extraction"


def test_anonymous_gets_401_without_guest_access(anon_api, project):
    assert anon_api.get("/api/v1/projects").status_code == 401
    assert anon_api.get(f"/api/v1/projects/{project.pk}").status_code == 401
    assert anon_api.post("/api/v1/projects", {"name": "x"}, format="json").status_code == 401

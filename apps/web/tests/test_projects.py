import pytest

from apps.exports.models import ExportRecord, SavedConfig
from apps.projects.models import Project
from apps.runs.models import Run
from apps.web.tests.builders import htmx, make_experiment, make_project, make_run

pytestmark = pytest.mark.django_db

WRITE_CONTROLS = ("New project", "Edit notes", "Delete project", '<form method="post"')


# The list

def test_the_list_shows_my_projects_with_their_experiment_count(client, owner, experiment, other_project):
    client.force_login(owner)
    html = client.get("/projects/").content.decode()
    assert f'<a href="/projects/{experiment.project_id}/">Support replies</a>' in html
    assert '<td class="num">1</td>' in html
    assert "Someone else" not in html
    assert "New project" in html


def test_search_narrows_the_list_by_name(client, owner):
    for name in ("Alpha", "beta tests", "Gamma"):
        make_project(owner, name=name)
    client.force_login(owner)
    html = client.get("/projects/?q=TA").content.decode()
    assert "beta tests" in html and "Alpha" not in html and "Gamma" not in html
    assert "No project matches this search." in client.get("/projects/?q=zzz").content.decode()


def test_the_list_is_paginated_and_keeps_the_search(client, owner):
    for index in range(30):
        make_project(owner, name=f"Project {index:02d}")
    client.force_login(owner)
    html = client.get("/projects/?q=project").content.decode()
    assert "Page 1 of 2" in html and "?page=2&amp;q=project" in html
    assert "Page 2 of 2" in client.get("/projects/?q=project&page=2").content.decode()


def test_htmx_search_returns_only_the_list(client, owner, project):
    client.force_login(owner)
    html = htmx(client, "/projects/?q=support", target="project-list").content.decode()
    assert html.lstrip().startswith('<section id="project-list"') and "Support replies" in html
    assert "<html" not in html


def test_a_guest_reads_the_list_without_write_controls(client, guest_mode, project):
    html = client.get("/projects/").content.decode()
    assert "Support replies" in html
    assert not any(control in html for control in WRITE_CONTROLS)


def test_without_guest_access_the_list_sends_an_anonymous_visitor_to_log_in(client, admin_user):
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# Create

def test_creating_a_project_opens_it(client, owner):
    client.force_login(owner)
    response = client.post("/projects/new/", {"name": "  Summaries ", "description": "short ones"})
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert project.name == "Summaries" and project.owner == owner
    assert "Project “Summaries” created." in client.get(response["Location"]).content.decode()


def test_a_blank_name_shows_the_services_error_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post("/projects/new/", {"name": "   "})
    html = response.content.decode()
    assert response.status_code == 400
    name_field = html.index('name="name"')
    assert html.index("This field may not be blank.", name_field) < html.index('name="description"')
    assert not Project.objects.exists()


def test_a_too_long_name_is_refused_with_the_apis_message(client, owner):
    client.force_login(owner)
    response = client.post("/projects/new/", {"name": "x" * 201})
    assert response.status_code == 400
    assert "Ensure this field has no more than 200 characters." in response.content.decode()


def test_a_guest_cannot_create_a_project(client, guest_mode):
    response = client.post("/projects/new/", {"name": "Sneaky"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/projects/new/").status_code == 302
    assert not Project.objects.exists()


# Detail

def test_the_detail_lists_experiments_with_their_best_unrejected_score(client, owner, project, experiment):
    make_run(experiment, score=0.4)
    make_run(experiment, score=0.72)
    make_run(experiment, score=0.95, approval=Run.Approval.REJECTED)
    make_experiment(project, name="Empty one")
    client.force_login(owner)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Replies to customer emails" in html and "Try a shorter system prompt." in html
    row = html[html.index(f'id="experiment-{experiment.pk}"'):]
    row = row[: row.index("</tr>")]
    assert "Tone check" in row and "0.720" in row and '<td class="num">3</td>' in row
    assert "Empty one" in html


def test_the_detail_shows_saved_configs_and_export_history(client, owner, project, experiment):
    SavedConfig.objects.create(project=project, name="Best so far", config={"model": "small"}, score=0.9)
    ExportRecord.objects.create(project=project, experiment=experiment, format=ExportRecord.Format.ENV,
                                created_by=owner)
    client.force_login(owner)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Best so far" in html and "0.900" in html and "&quot;model&quot;: &quot;small&quot;" in html
    exports = html[html.index('id="project-exports"'):]
    assert "Tone check" in exports and "owner" in exports
    assert "Nothing exported yet." not in html


def test_a_guest_reads_saved_configs_with_endpoint_ids_masked(client, guest_mode, project):
    endpoint_id = "5f3c1a2b-0000-4000-8000-000000000001"
    SavedConfig.objects.create(project=project, name="Best", config={"stages": [{"endpoint": endpoint_id}]})
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Best" in html and endpoint_id not in html


def test_another_users_project_is_not_found(client, other_user, project):
    client.force_login(other_user)
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/notes/").status_code == 404
    assert client.post(f"/projects/{project.pk}/notes/", {"notes": "mine now"}).status_code == 404
    assert client.post(f"/projects/{project.pk}/delete/").status_code == 404
    project.refresh_from_db()
    assert project.notes == "Try a shorter system prompt."


def test_a_guest_reads_the_detail_without_write_controls(client, guest_mode, project, experiment):
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Tone check" in html and "Try a shorter system prompt." in html
    assert not any(control in html for control in WRITE_CONTROLS)


def test_a_guest_cannot_edit_notes_or_delete(client, guest_mode, project):
    assert client.post(f"/projects/{project.pk}/notes/", {"notes": "guest was here"}).status_code == 302
    assert client.post(f"/projects/{project.pk}/delete/").status_code == 302
    project.refresh_from_db()
    assert project.notes == "Try a shorter system prompt."


def test_without_guest_access_the_detail_sends_an_anonymous_visitor_to_log_in(client, admin_user, project):
    response = client.get(f"/projects/{project.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_htmx_pages_through_one_list_of_the_detail(client, owner, project):
    for index in range(30):
        make_experiment(project, name=f"Experiment {index:02d}")
    client.force_login(owner)
    html = htmx(client, f"/projects/{project.pk}/?experiments_page=2", target="project-experiments").content.decode()
    assert html.lstrip().startswith('<section id="project-experiments"')
    assert "Page 2 of 2" in html and "Experiment 00" in html and "Experiment 29" not in html
    assert "project-notes" not in html


def test_the_detail_does_not_grow_queries_with_experiments(client, owner, project, django_assert_max_num_queries):
    for index in range(10):
        make_run(make_experiment(project, name=f"e{index}"), score=0.5)
        SavedConfig.objects.create(project=project, name=f"c{index}", config={})
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        assert client.get(f"/projects/{project.pk}/").status_code == 200


# Notes, in place

def test_editing_notes_in_place_swaps_the_form_then_the_saved_text(client, owner, project):
    client.force_login(owner)
    form = htmx(client, f"/projects/{project.pk}/notes/", target="project-notes").content.decode()
    assert form.lstrip().startswith('<section id="project-notes"')
    assert "<textarea" in form and "Try a shorter system prompt." in form and "Save notes" in form
    saved = htmx(client, f"/projects/{project.pk}/notes/", target="project-notes", method="post",
                 data={"notes": "Temperature 0.2 wins."}).content.decode()
    assert saved.lstrip().startswith('<section id="project-notes"')
    assert "Temperature 0.2 wins." in saved and "<textarea" not in saved and "Edit notes" in saved
    project.refresh_from_db()
    assert project.notes == "Temperature 0.2 wins."


def test_notes_can_be_edited_without_javascript(client, owner, project):
    client.force_login(owner)
    page = client.get(f"/projects/{project.pk}/notes/").content.decode()
    assert "<html" in page and "<textarea" in page
    response = client.post(f"/projects/{project.pk}/notes/", {"notes": "Plain form."})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert "Notes saved." in client.get(response["Location"]).content.decode()


def test_too_long_notes_show_the_services_error_in_the_form(client, owner, project):
    client.force_login(owner)
    response = htmx(client, f"/projects/{project.pk}/notes/", target="project-notes", method="post",
                    data={"notes": "x" * 100_001})
    html = response.content.decode()
    assert response.status_code == 400
    assert "<textarea" in html and "Ensure this field has no more than 100000 characters." in html
    project.refresh_from_db()
    assert project.notes == "Try a shorter system prompt."


# Delete

def test_delete_asks_first_saying_what_goes_with_the_project(client, owner, project, experiment):
    make_run(experiment)
    client.force_login(owner)
    html = client.get(f"/projects/{project.pk}/delete/").content.decode()
    assert "Delete “Support replies”?" in html and "1 experiment" in html and "Tone check (1 run)" in html
    assert Project.objects.filter(pk=project.pk).exists()


def test_confirming_deletes_the_project_and_returns_to_the_list(client, owner, project, experiment):
    client.force_login(owner)
    response = client.post(f"/projects/{project.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/projects/"
    assert not Project.objects.filter(pk=project.pk).exists()
    assert "Project “Support replies” deleted." in client.get("/projects/").content.decode()

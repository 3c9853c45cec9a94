"""Export downloads from the live view, the export history they leave, and "Save as best config"."""

import datetime as dt
import json

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string

from apps.exports.models import ExportRecord, SavedConfig
from apps.exports.tests.builders import make_endpoint, make_experiment, make_run
from apps.runs.models import Run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db

# web format → (REST path segment, file name, content type)
FORMATS = {
    "json": ("best", "fact-extraction-v2-best.json", "application/json"),
    "env": ("env", "fact-extraction-v2.env", "text/plain; charset=utf-8"),
    "yaml": ("yaml", "fact-extraction-v2.yaml", "application/yaml; charset=utf-8"),
    "report": ("report", "fact-extraction-v2-report.md", "text/markdown; charset=utf-8"),
}
MOMENT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def endpoint(owner):
    return make_endpoint(owner)


@pytest.fixture
def experiment(owner, endpoint):
    return make_experiment(owner, endpoint)


@pytest.fixture
def runs(experiment):
    return {"worse": make_run(experiment, position=0, score=0.6, point={"stages.0.model": "small-model"}),
            "best": make_run(experiment, position=1, score=0.9, point={"stages.0.model": "big-model"})}


@pytest.fixture
def frozen(monkeypatch):
    """The documents carry their export time; freeze it so the page's file and the API's compare byte for byte."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: MOMENT)


def export_url(experiment, fmt, query=""):
    return f"/experiments/{experiment.pk}/export/{fmt}/{query}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_downloads_the_same_file_as_the_rest_export(client, api, owner, experiment, runs, frozen, fmt):
    rest_path, filename, content_type = FORMATS[fmt]
    client.force_login(owner)
    response = client.get(export_url(experiment, fmt))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["Content-Type"] == content_type
    rest = api.get(f"/api/v1/experiments/{experiment.pk}/export/{rest_path}")
    assert response.content == rest.content and str(runs["best"].pk) in response.content.decode()


def test_a_download_appears_in_the_projects_export_history(client, owner, experiment, runs):
    client.force_login(owner)
    client.get(export_url(experiment, "env"))
    record = ExportRecord.objects.get()
    assert (record.format, record.run, record.created_by) == ("env", runs["best"], owner)
    history = client.get(f"/projects/{experiment.project_id}/").content.decode()
    history = history[history.index('id="project-exports"'):]
    assert "<td>.env</td>" in history and "<td>Fact extraction v2</td>" in history and "<td>owner</td>" in history


def test_a_run_query_exports_that_run(client, owner, experiment, runs):
    client.force_login(owner)
    content = client.get(export_url(experiment, "json", f"?run={runs['worse'].pk}")).content.decode()
    body = json.loads(content)
    # The best run appears only as what the exported run is compared with (docs/significance.md).
    assert body["run_id"] == str(runs["worse"].pk) and body["significance"]["compared_with"] == str(runs["best"].pk)


def test_without_a_finished_run_the_live_view_explains_why(client, owner, experiment):
    client.force_login(owner)
    response = client.get(export_url(experiment, "env"))
    assert response.status_code == 302 and response["Location"] == f"/experiments/{experiment.pk}/"
    [message] = get_messages(response.wsgi_request)
    assert "no finished runs to export yet" in str(message)
    assert not ExportRecord.objects.exists()
    refused = htmx(client, export_url(experiment, "env"))
    assert refused.status_code == 404 and "no finished runs" in refused.content.decode()


def test_a_run_of_another_experiment_or_a_malformed_id_is_refused_with_a_message(client, owner, endpoint,
                                                                                 experiment, runs):
    elsewhere = make_run(make_experiment(owner, endpoint, name="Other"), score=0.5)
    client.force_login(owner)
    response = client.get(export_url(experiment, "env", f"?run={elsewhere.pk}"))
    assert response.status_code == 302
    assert "not part of this experiment" in str(list(get_messages(response.wsgi_request))[0])
    response = client.get(export_url(experiment, "env", "?run=nope"))
    assert response.status_code == 302 and "valid UUID" in str(list(get_messages(response.wsgi_request))[-1])


def test_an_unknown_format_is_not_found(client, owner, experiment, runs):
    client.force_login(owner)
    assert client.get(export_url(experiment, "csv")).status_code == 404


def test_another_user_gets_a_404_page(client, other_user, experiment, runs):
    client.force_login(other_user)
    assert client.get(export_url(experiment, "env")).status_code == 404
    assert client.post(f"/experiments/{experiment.pk}/save-best/").status_code == 404
    assert not ExportRecord.objects.exists() and not SavedConfig.objects.exists()


def test_a_guest_downloads_what_the_rest_export_gives_a_guest(client, guest_mode, experiment, runs, endpoint,
                                                              frozen):
    from rest_framework.test import APIClient

    response = client.get(export_url(experiment, "json"))
    assert response.status_code == 200 and str(endpoint.pk) not in response.content.decode()
    assert response.content == APIClient().get(f"/api/v1/experiments/{experiment.pk}/export/best").content
    assert ExportRecord.objects.filter(created_by=None).count() == 2


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, experiment, runs):
    response = client.get(export_url(experiment, "env"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not ExportRecord.objects.exists()


# The partial the live view includes, and "Save as best config"

def test_the_partial_offers_four_downloads_and_saving_only_to_a_writer(experiment):
    html = render_to_string("web/experiments/exports.html#experiment-exports",
                            {"experiment": experiment, "can_write": True})
    assert html.lstrip().startswith('<section id="experiment-exports"')
    for fmt in FORMATS:
        assert f'href="/experiments/{experiment.pk}/export/{fmt}/"' in html
    assert ".env</a> — environment variables for your app." in html
    assert "Save as best config" in html
    read_only = render_to_string("web/experiments/exports.html#experiment-exports",
                                 {"experiment": experiment, "can_write": False})
    assert "Save as best config" not in read_only and "<form" not in read_only
    assert f'href="/experiments/{experiment.pk}/export/env/"' in read_only


def test_saving_the_best_config_puts_it_in_the_projects_saved_configs(client, owner, experiment, runs):
    client.force_login(owner)
    response = client.post(f"/experiments/{experiment.pk}/save-best/")
    assert response.status_code == 302 and response["Location"] == f"/experiments/{experiment.pk}/"
    saved = SavedConfig.objects.get()
    assert saved.run == runs["best"] and saved.config == runs["best"].config and saved.score == 0.9
    project_page = client.get(f"/projects/{experiment.project_id}/").content.decode()
    assert "Fact extraction v2 · best" in project_page and "0.900" in project_page


def test_saving_with_htmx_answers_the_partial_with_a_confirmation(client, owner, experiment, runs):
    client.force_login(owner)
    response = htmx(client, f"/experiments/{experiment.pk}/save-best/", method="post", target="experiment-exports")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="experiment-exports"')
    assert "Saved “Fact extraction v2 · best” (score 0.900)" in html and "<html" not in html


def test_saving_without_a_finished_run_explains_why(client, owner, experiment):
    make_run(experiment, score=0.95, approval=Run.Approval.REJECTED)
    client.force_login(owner)
    response = client.post(f"/experiments/{experiment.pk}/save-best/")
    assert response.status_code == 302 and not SavedConfig.objects.exists()
    assert "no finished runs" in str(list(get_messages(response.wsgi_request))[0])


def test_a_guest_cannot_save_a_best_config(client, guest_mode, experiment, runs):
    response = client.post(f"/experiments/{experiment.pk}/save-best/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get(f"/experiments/{experiment.pk}/save-best/").status_code == 302
    assert not SavedConfig.objects.exists()

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.runs.models import Run
from apps.web.tests.builders import htmx
from apps.web.tests.run_builders import make_endpoint, make_output_run, make_rating_experiment

pytestmark = pytest.mark.django_db

RATING_CONTROLS = ('name="stars"', 'name="thumbs"', "Save rating", "Rating queue", '<form method="post" action="/runs/')


@pytest.fixture
def endpoint(owner):
    return make_endpoint(owner)


@pytest.fixture
def rating_experiment(project):
    return make_rating_experiment(project)


@pytest.fixture
def run(rating_experiment, endpoint):
    return make_output_run(rating_experiment, endpoint=endpoint)


def url(run, **query):
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/runs/{run.pk}/" + (f"?{suffix}" if suffix else "")


def test_the_summary_shows_status_score_interval_point_stages_and_scorers(client, owner, run):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    summary = html[html.index('id="run-summary"'):html.index("</section>", html.index('id="run-summary"'))]
    assert "Completed" in summary and "0.500" in summary
    assert "95% CI 0.800–1.000" in summary
    assert "stages.0.params.temperature" in summary and "0.2" in summary
    assert "Local fake" in summary and "fake-chat" in summary and "temperature=0.2" in summary
    assert "keyword" in summary and "1.000" in summary


def test_every_call_shows_the_prompt_sent_the_response_tokens_latency_and_cache(client, owner, run):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    assert "You are helper 1." in html and "Reply to: Email number 1 asks for a refund" in html
    assert "Answer i1/0/1: we will refund you" in html
    assert "31 tokens in / 16 out" in html and "201 ms" in html
    assert html.count(">cached</span>") == 1 and "not cached" in html
    assert "Refund reply 0" in html  # the item's reference


def test_per_item_scores_show_each_scorers_explanation(client, owner, run):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    scores = html[html.index('class="item-scores"'):]
    assert "keyword" in scores and "found: refund; missing: none" in scores


def test_a_failed_run_shows_its_error_and_the_failed_calls_error(client, owner, rating_experiment, endpoint):
    failed = make_output_run(rating_experiment, endpoint=endpoint, status=Run.Status.FAILED, fail_item="i1")
    client.force_login(owner)
    html = client.get(url(failed)).content.decode()
    assert "Failed" in html
    assert f"endpoint {endpoint.pk} is not available" in html
    assert f"endpoint {endpoint.pk} timed out after 30 s" in html


def test_the_full_config_is_shown_as_json(client, owner, run, endpoint):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    assert "Full configuration (JSON)" in html and f"&quot;endpoint&quot;: &quot;{endpoint.pk}&quot;" in html


def test_the_owner_gets_a_rating_widget_for_each_output(client, owner, run):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    assert html.count("Save rating") == 2
    assert '<label for="' in html and "5 stars" in html and "Thumbs" in html and "Comment" in html
    assert "Rating queue" in html


def test_a_guest_reads_the_run_with_endpoint_ids_masked_and_no_rating_controls(
        client, guest_mode, rating_experiment, endpoint):
    failed = make_output_run(rating_experiment, endpoint=endpoint, status=Run.Status.FAILED, fail_item="i1")
    html = client.get(url(failed)).content.decode()
    assert "Answer i0/0/1: we will refund you" in html
    assert str(endpoint.pk) not in html and "Local fake" not in html
    assert "endpoint (hidden) is not available" in html and "endpoint (hidden) timed out" in html
    assert not any(control in html for control in RATING_CONTROLS)


def test_another_users_run_is_not_found(client, other_user, run):
    client.force_login(other_user)
    assert client.get(url(run)).status_code == 404


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user, run):
    response = client.get(url(run))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_htmx_returns_only_the_summary_or_the_outputs(client, owner, run):
    client.force_login(owner)
    summary = htmx(client, url(run), target="run-summary").content.decode()
    assert summary.lstrip().startswith('<section id="run-summary"') and "<html" not in summary
    assert "Prompt sent" not in summary
    outputs = htmx(client, url(run), target="run-outputs").content.decode()
    assert outputs.lstrip().startswith('<section id="run-outputs"') and "Prompt sent" in outputs


def test_the_summary_stands_alone_for_the_leaderboards_inline_expansion(client, owner, run):
    client.force_login(owner)
    html = client.get(url(run)).content.decode()
    start = html.index('<section id="run-summary"')
    summary = html[start:html.index("</section>", start)]
    assert summary.count("<table") == summary.count("</table>") == 2


def test_outputs_are_paginated_by_item(client, owner, project, endpoint):
    experiment = make_rating_experiment(project, n_items=25, name="Big")
    big = make_output_run(experiment, endpoint=endpoint, n_items=25, stages=1)
    client.force_login(owner)
    first = client.get(url(big)).content.decode()
    assert "Page 1 of 3" in first and "<code>i0</code>" in first and "<code>i9</code>" not in first  # i0, i1, i10…
    third = client.get(url(big, page=3)).content.decode()
    assert "<code>i9</code>" in third and "<code>i0</code>" not in third


def test_the_number_of_queries_does_not_grow_with_the_items_on_the_page(client, owner, project, endpoint):
    client.force_login(owner)

    def queries(n_items):
        experiment = make_rating_experiment(project, n_items=n_items, name=f"n{n_items}")
        run = make_output_run(experiment, endpoint=endpoint, n_items=n_items, repeats=2, stages=3)
        client.get(url(run))  # warm the per-process caches (system settings)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(run)).status_code == 200
        return len(captured)

    small, full = queries(1), queries(10)
    assert small == full and full <= 12

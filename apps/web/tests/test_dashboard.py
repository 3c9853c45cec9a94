import pytest

from apps.activity.kinds import Kind
from apps.runs.models import Sweep
from apps.runs.summaries import user_totals
from apps.web.tests.builders import htmx, make_event, make_experiment, make_project, make_run, make_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(owner, experiment):
    """The owner's experiment with a running and a paused sweep, two runs and a few events."""
    make_sweep(experiment, status=Sweep.Status.RUNNING, total=8, done=3)
    make_sweep(experiment, status=Sweep.Status.PAUSED, total=4, done=1)
    make_sweep(experiment, status=Sweep.Status.COMPLETED, total=5, done=5)
    make_run(experiment, calls=4, cache_hits=1, tokens_in=100, tokens_out=50, cost="0.0125")
    make_run(experiment, calls=4, cache_hits=3, tokens_in=900, tokens_out=950, cost="0.5")
    make_event(experiment, Kind.SWEEP_STARTED)
    make_event(experiment, Kind.NEW_BEST, weighted_score=0.75)
    return experiment


def test_the_dashboard_shows_running_and_paused_sweeps_with_their_progress(client, owner, busy):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "3 of 8 runs" in html and "1 of 4 runs" in html
    assert "Running" in html and "Paused" in html
    assert "5 of 5 runs" not in html


def test_the_feed_names_each_event_in_words_and_links_to_its_experiment(client, owner, busy):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "A sweep begins." in html
    assert f'href="/experiments/{busy.pk}/">Tone check</a>' in html


def test_recent_new_bests_show_the_score_reached(client, owner, busy):
    client.force_login(owner)
    assert "reached <strong>0.750</strong>" in client.get("/").content.decode()


def test_totals_count_runs_tokens_cost_and_the_cache_hit_rate(client, owner, busy):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "<dt>Runs</dt><dd>2</dd>" in html
    assert "<dt>Tokens</dt><dd>2,000</dd>" in html
    assert "$0.5125" in html
    assert "50.0%" in html  # 4 cache hits of 8 calls


def test_totals_are_zero_with_no_rate_before_any_call(owner):
    totals = user_totals(user=owner)
    assert totals["runs"] == 0 and totals["tokens"] == 0 and totals["cache_hit_rate"] is None


def test_another_users_sweeps_events_and_totals_stay_out_of_my_dashboard(client, other_user, busy):
    client.force_login(other_user)
    html = client.get("/").content.decode()
    assert "Tone check" not in html and "3 of 8 runs" not in html
    assert "<dt>Runs</dt><dd>0</dd>" in html
    assert "No sweep is running or paused." in html and "No activity yet." in html


def test_a_guest_reads_the_dashboard_without_write_controls(client, guest_mode, busy):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 of 8 runs" in html
    assert "<form method=\"post\"" not in html and "<button" not in html


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_htmx_gets_only_the_partial_it_targets(client, owner, busy):
    client.force_login(owner)
    html = htmx(client, "/", target="dashboard-feed").content.decode()
    assert html.lstrip().startswith('<section id="dashboard-feed"')
    assert "A sweep begins." in html and "<html" not in html and "dashboard-totals" not in html
    html = htmx(client, "/", target="dashboard-totals").content.decode()
    assert html.lstrip().startswith('<section id="dashboard-totals"') and "<dt>Runs</dt><dd>2</dd>" in html


def test_the_feed_is_paginated(client, owner, experiment):
    for _ in range(30):
        make_event(experiment, Kind.RUN_COMPLETED)
    make_event(experiment, Kind.SWEEP_STARTED)
    client.force_login(owner)
    first = client.get("/").content.decode()
    assert "A sweep begins." in first and "Page 1</span>" in first and "?feed_page=2" in first
    second = htmx(client, "/?feed_page=2", target="dashboard-feed").content.decode()
    assert "A sweep begins." not in second and "A run finished." in second and "Page 2</span>" in second
    assert "?feed_page=3" not in second


def test_the_dashboard_does_not_grow_queries_with_sweeps_and_events(client, owner, django_assert_max_num_queries):
    client.force_login(owner)
    for index in range(12):
        experiment = make_experiment(make_project(owner, name=f"p{index}"), name=f"e{index}")
        make_sweep(experiment)
        make_event(experiment, Kind.NEW_BEST, weighted_score=0.5)
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200

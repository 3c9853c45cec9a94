"""The live experiment view: the page, its progress and timeline sections, who may see and steer what."""

import re

import pytest

from apps.activity.kinds import Kind
from apps.live.groups import Target, experiment_group
from apps.live.pushes import push_build
from apps.runs.models import Run, Sweep
from apps.web.tests.builders import htmx, make_event
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, started_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db


def timeline_entries(html: str) -> str:
    """The timeline's list of events (the type filter above it names every kind too)."""
    section = html[html.index('<section id="experiment-timeline"'):]
    return section[section.index("</select>"):section.index("</section>")]


def test_the_owner_sees_the_sweeps_progress_and_its_steering_buttons(client, owner, started):
    client.force_login(owner)
    html = client.get(url("experiment", started.experiment)).content.decode()
    assert "Tone check" in html and "0 of 4 runs" in html and 'data-sweep-status="pending"' in html
    assert ">Pause</button>" in html and ">Stop</button>" in html
    assert "Stop the sweep? 4 queued runs will not run; 0 finished runs are kept." in html
    assert 'ws-connect="/ws/experiments/' in html
    assert "Start a sweep</h2>" not in html  # a sweep is in progress: no second start


def test_before_any_sweep_the_owner_gets_the_start_panel(client, owner, runnable):
    client.force_login(owner)
    html = client.get(url("experiment", runnable)).content.decode()
    assert "No sweep has run yet." in html and "Start a sweep</h2>" in html
    assert 'for="id_type"' in html and 'for="id_budget_usd"' in html
    assert f'href="/experiments/{runnable.pk}/edit/"' in html


def test_another_users_experiment_is_a_404(client, other_user, started):
    client.force_login(other_user)
    assert client.get(url("experiment", started.experiment)).status_code == 404
    assert client.post(url("experiment_pause", started.experiment)).status_code == 404
    assert client.get(url("experiment_timeline", started.experiment), headers={"HX-Request": "true"}).status_code == 404


def test_a_guest_reads_the_page_without_steering_or_start_controls(client, guest_mode, started):
    html = client.get(url("experiment", started.experiment)).content.decode()
    assert "0 of 4 runs" in html
    assert ">Pause</button>" not in html and ">Stop</button>" not in html and "Start a sweep</h2>" not in html
    assert "/edit/" not in html and 'method="post"' not in html.split('<main')[1]


def test_a_guests_writes_are_refused(client, guest_mode, started):
    experiment = started.experiment
    for name in ("experiment_pause", "experiment_stop", "sweep_start", "experiment_redirect"):
        response = client.post(url(name, experiment))
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get(url("experiment_estimate", experiment)).status_code == 302
    started.refresh_from_db()
    assert started.status == Sweep.Status.PENDING


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user, started):
    page = url("experiment", started.experiment)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={page}"


def test_htmx_gets_only_the_progress_section(client, owner, started):
    client.force_login(owner)
    html = htmx(client, url("experiment", started.experiment), target="experiment-progress").content.decode()
    assert html.lstrip().startswith('<section id="experiment-progress"') and "0 of 4 runs" in html
    assert "<html" not in html and "experiment-timeline" not in html


def test_pause_then_resume_changes_the_status_the_progress_section_shows(client, owner, started):
    client.force_login(owner)
    html = htmx(client, url("experiment_pause", started.experiment), method="post").content.decode()
    assert html.lstrip().startswith('<section id="experiment-progress"')
    assert 'data-sweep-status="paused"' in html and "paused by user" in html and ">Resume</button>" in html
    assert 'data-experiment-status="paused"' in html
    started.refresh_from_db()
    assert started.status == Sweep.Status.PAUSED
    html = htmx(client, url("experiment_resume", started.experiment), method="post").content.decode()
    assert 'data-sweep-status="running"' in html and ">Pause</button>" in html


def test_stop_cancels_the_queued_runs_and_without_javascript_returns_to_the_page_with_a_message(
        client, owner, started):
    client.force_login(owner)
    response = client.post(url("experiment_stop", started.experiment), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == url("experiment", started.experiment)
    assert "Sweep stopped: its queued runs were cancelled." in html and 'data-sweep-status="stopped"' in html
    assert set(Run.objects.filter(sweep=started).values_list("status", flat=True)) == {Run.Status.CANCELLED}
    assert "Start a sweep</h2>" in html  # nothing runs any more: a new sweep may start


def test_resuming_a_sweep_that_is_not_paused_says_why_in_the_progress_section(client, owner, started):
    client.force_login(owner)
    html = htmx(client, url("experiment_resume", started.experiment), method="post").content.decode()
    assert "flash-error" in html and "No sweep of this experiment is paused." in html


def test_the_timeline_lists_events_newest_first_and_filters_by_type(client, owner, runnable):
    make_event(runnable, Kind.SWEEP_STARTED)
    make_event(runnable, Kind.NEW_BEST, weighted_score=0.9)
    client.force_login(owner)
    listed = timeline_entries(client.get(url("experiment", runnable)).content.decode())
    assert listed.index("A run beat every earlier run") < listed.index("A sweep begins.")
    partial = htmx(client, url("experiment_timeline", runnable) + "?kind=experiment.started",
                   target="experiment-timeline").content.decode()
    assert partial.lstrip().startswith('<section id="experiment-timeline"')
    assert "A sweep begins." in timeline_entries(partial)
    assert "A run beat every earlier run" not in timeline_entries(partial)
    assert '<option value="experiment.started" selected>' in partial


def test_the_timeline_is_paginated_and_keeps_its_filter_across_pages(client, owner, runnable):
    for _ in range(25):
        make_event(runnable, Kind.RUN_COMPLETED)
    make_event(runnable, Kind.SWEEP_STARTED)
    client.force_login(owner)
    first = htmx(client, url("experiment", runnable), target="experiment-timeline").content.decode()
    # A feed's pager reads one row past the page instead of counting every event: "Page N", no "of M".
    assert "Page 1</span>" in first and "?timeline_page=2" in first and "A sweep begins." in timeline_entries(first)
    second = htmx(client, url("experiment", runnable) + "?timeline_page=2", target="experiment-timeline")
    second = second.content.decode()
    assert "Page 2</span>" in second and "?timeline_page=3" not in second and "?timeline_page=1" in second
    assert "A sweep begins." not in timeline_entries(second) and timeline_entries(second).count("<li id=\"event-") == 6
    past = htmx(client, url("experiment", runnable) + "?timeline_page=9", target="experiment-timeline")
    assert "Page 2 of 2" in past.content.decode()  # past the end: the last page, as other lists answer
    filtered = htmx(client, url("experiment_timeline", runnable) + "?kind=run.completed", target="experiment-timeline")
    assert "?timeline_page=2&amp;kind=run.completed" in filtered.content.decode()


def test_the_timeline_without_htmx_is_the_page_filtered(client, owner, runnable):
    client.force_login(owner)
    response = client.get(url("experiment_timeline", runnable) + "?kind=run.failed")
    assert response.status_code == 302
    assert response["Location"] == url("experiment", runnable) + "?kind=run.failed#experiment-timeline"


def test_a_guest_reads_the_timeline_partial(client, guest_mode, runnable):
    make_event(runnable, Kind.SWEEP_STARTED)
    html = htmx(client, url("experiment_timeline", runnable), target="experiment-timeline").content.decode()
    assert "A sweep begins." in timeline_entries(html)


def test_a_push_to_the_experiment_carries_its_progress_and_timeline_sections(owner, started):
    experiment = started.experiment
    event = make_event(experiment, Kind.SWEEP_PAUSED)
    target = Target(experiment_group(experiment.pk), "experiment", str(owner.pk), str(experiment.pk), guests=True)
    push = push_build(target, [event])
    assert '<section id="experiment-progress"' in push["html"]["owner"] and "0 of 4 runs" in push["html"]["owner"]
    assert 'id="experiment-timeline"' in push["html"]["owner"]
    assert ">Pause</button>" in push["html"]["owner"] and "csrfmiddlewaretoken" not in push["html"]["owner"]
    assert '<section id="experiment-progress"' in push["html"]["guest"]
    assert ">Pause</button>" not in push["html"]["guest"] and "<form" not in push["html"]["guest"]


def test_the_page_does_not_grow_queries_with_runs_and_events(client, owner, runnable, django_assert_max_num_queries):
    from apps.runs.services.sweeps import sweep_start

    sweep_start(user=owner, experiment=runnable, kind="grid")
    for _ in range(30):
        make_event(runnable, Kind.RUN_COMPLETED)
    client.force_login(owner)
    with django_assert_max_num_queries(15):
        assert client.get(url("experiment", runnable)).status_code == 200


def test_the_eta_follows_the_rate_runs_finished_at_since_the_sweep_started(client, owner, started):
    from datetime import timedelta

    from django.utils import timezone

    Sweep.objects.filter(pk=started.pk).update(status=Sweep.Status.RUNNING,
                                               started_at=timezone.now() - timedelta(seconds=60))
    done = Run.objects.filter(sweep=started).order_by("position")[:2].values_list("pk", flat=True)
    Run.objects.filter(pk__in=list(done)).update(status=Run.Status.COMPLETED)
    leased = Run.objects.filter(sweep=started, status=Run.Status.PENDING).order_by("position").first()
    Run.objects.filter(pk=leased.pk).update(status=Run.Status.RUNNING)
    client.force_login(owner)
    html = htmx(client, url("experiment", started.experiment), target="experiment-progress").content.decode()
    assert "2 of 4 runs" in html and "<dt>In flight</dt><dd>1 run</dd>" in html
    assert re.search(r"<dt>ETA</dt><dd>1 min [01] s</dd>", html), html  # 2 runs a minute, 2 to go

"""Steering the live view: confirmations that state the numbers, and buttons and start panel that follow the state."""

import re

import pytest
from django.test import Client

from apps.activity.kinds import Kind
from apps.live.groups import Target, experiment_group
from apps.live.pushes import push_build
from apps.runs.models import Run, Sweep
from apps.runs.services import sweeps
from apps.web.tests.builders import htmx, make_event
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, started_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db


def pushed(owner, experiment, kind: Kind) -> dict[str, str]:
    target = Target(experiment_group(experiment.pk), "experiment", str(owner.pk), str(experiment.pk), guests=True)
    return push_build(target, [make_event(experiment, kind)])["html"]


def start_slot(html: str) -> str:
    start = html.index('<div id="experiment-start"')
    return html[start:html.index("</div>", start) + len("</div>")]


def one_done_one_in_flight(sweep: Sweep) -> None:
    Sweep.objects.filter(pk=sweep.pk).update(status=Sweep.Status.RUNNING)
    first, second = Run.objects.filter(sweep=sweep).order_by("position")[:2]
    Run.objects.filter(pk=first.pk).update(status=Run.Status.COMPLETED)
    Run.objects.filter(pk=second.pk).update(status=Run.Status.RUNNING)


def test_each_confirmation_states_the_live_numbers_of_what_it_will_do(client, owner, started):
    one_done_one_in_flight(started)
    client.force_login(owner)
    html = htmx(client, url("experiment", started.experiment), target="experiment-progress").content.decode()
    assert ("Stop the sweep? 2 queued runs will not run, 1 in flight is cancelled after its calls; "
            "1 finished run is kept.") in html
    assert "Pause the sweep? 1 run in flight finish; 2 queued runs wait until you resume." in html
    sweeps.sweep_pause(experiment=started.experiment)
    html = htmx(client, url("experiment", started.experiment), target="experiment-progress").content.decode()
    assert "Resume the sweep? 2 queued runs start running again; 1 of 4 are done." in html


def test_a_push_shows_pause_only_while_running_and_resume_only_while_paused(owner, started):
    experiment = started.experiment
    running = pushed(owner, experiment, Kind.SWEEP_STARTED)["owner"]
    assert ">Pause</button>" in running and ">Resume</button>" not in running and ">Stop</button>" in running
    sweeps.sweep_pause(experiment=experiment)
    paused = pushed(owner, experiment, Kind.SWEEP_PAUSED)["owner"]
    assert ">Resume</button>" in paused and ">Pause</button>" not in paused and ">Stop</button>" in paused
    sweeps.sweep_stop(experiment=experiment)
    stopped = pushed(owner, experiment, Kind.SWEEP_STOPPED)["owner"]
    assert ">Resume</button>" not in stopped and ">Pause</button>" not in stopped and ">Stop</button>" not in stopped


def test_a_push_hides_the_start_panel_while_a_sweep_runs_and_brings_it_back_when_it_ends(client, owner, started):
    experiment = started.experiment
    html = pushed(owner, experiment, Kind.SWEEP_STARTED)
    assert start_slot(html["owner"]).replace("\n", "") == '<div id="experiment-start"></div>'
    sweeps.sweep_stop(experiment=experiment)
    html = pushed(owner, experiment, Kind.SWEEP_STOPPED)
    loader = start_slot(html["owner"])
    page = url("experiment", experiment)
    assert f'hx-get="{page}" hx-trigger="load" hx-target="#experiment-start"' in loader
    assert "csrfmiddlewaretoken" not in html["owner"]
    assert 'hx-get="' not in start_slot(html["guest"])  # guests never get a start panel
    # What the loader asks for: the panel with the page's own token, so the start form posts.
    client.force_login(owner)
    panel = htmx(client, page, target="experiment-start").content.decode()
    assert panel.lstrip().startswith('<div id="experiment-start"') and "Start a sweep</h2>" in panel
    assert 'name="csrfmiddlewaretoken"' in panel and "<html" not in panel


def test_a_sweep_finishing_brings_the_start_panel_back_with_its_push(owner, started):
    Sweep.objects.filter(pk=started.pk).update(status=Sweep.Status.COMPLETED)
    Run.objects.filter(sweep=started).update(status=Run.Status.COMPLETED)
    html = pushed(owner, started.experiment, Kind.SWEEP_COMPLETED)["owner"]
    assert "4 of 4 runs" in html and 'hx-trigger="load" hx-target="#experiment-start"' in start_slot(html)


def test_stopping_with_htmx_returns_the_new_state_without_a_reload(owner, started):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(url("experiment", started.experiment)).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post(url("experiment_stop", started.experiment),
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="experiment-progress"') and 'data-sweep-status="stopped"' in html
    assert "Sweep stopped: its queued runs were cancelled." in html and ">Stop</button>" not in html
    assert "<html" not in html


def test_pausing_with_htmx_swaps_pause_for_resume_and_a_paused_sweep_offers_no_second_start(client, owner, started):
    client.force_login(owner)
    html = htmx(client, url("experiment_pause", started.experiment), method="post").content.decode()
    assert ">Resume</button>" in html and ">Pause</button>" not in html
    assert "Start a sweep</h2>" not in client.get(url("experiment", started.experiment)).content.decode()
    html = htmx(client, url("experiment_resume", started.experiment), method="post").content.decode()
    assert ">Pause</button>" in html and ">Resume</button>" not in html


def test_steering_answers_land_in_a_wrapper_that_no_push_replaces(client, owner, started):
    from apps.live.fragments import FRAGMENTS

    client.force_login(owner)
    html = client.get(url("experiment", started.experiment)).content.decode()
    wrapper = html[html.index('<div id="experiment-steer">'):]
    assert re.match(r'<div id="experiment-steer">\s*<section id="experiment-progress"', wrapper)
    assert html.count('hx-target="#experiment-steer" hx-swap="innerHTML"') == 2  # pause and stop
    assert "experiment-steer" not in {fragment.dom_id for fragment in FRAGMENTS["experiment"]}

"""Every experiment the dashboard names links to its live view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.activity.kinds import Kind
from apps.runs.models import Sweep
from apps.web.tests.builders import htmx, make_event, make_sweep

pytestmark = pytest.mark.django_db


def live_link(experiment) -> str:
    return f'<a href="{reverse("web:experiment", args=[experiment.pk])}">{experiment.name}</a>'


def test_a_sweep_row_links_to_its_experiments_live_view(client, owner, experiment):
    sweep = make_sweep(experiment, status=Sweep.Status.RUNNING)
    client.force_login(owner)
    html = htmx(client, "/", target="dashboard-sweeps").content.decode()
    assert f'id="sweep-{sweep.pk}"' in html and live_link(experiment) in html


def test_a_new_best_links_to_its_experiments_live_view(client, owner, experiment):
    make_event(experiment, Kind.NEW_BEST, weighted_score=0.9)
    client.force_login(owner)
    html = htmx(client, "/", target="dashboard-bests").content.decode()
    assert "reached <strong>0.900</strong>" in html and live_link(experiment) in html


def test_a_feed_entry_links_to_its_experiments_live_view(client, owner, experiment):
    make_event(experiment, Kind.SWEEP_STARTED)
    client.force_login(owner)
    html = htmx(client, "/", target="dashboard-feed").content.decode()
    assert "A sweep begins." in html and live_link(experiment) in html


def test_a_guest_sees_the_same_links_on_the_public_dashboard(client, guest_mode, experiment):
    make_sweep(experiment, status=Sweep.Status.PAUSED)
    make_event(experiment, Kind.SWEEP_STARTED)
    html = client.get("/").content.decode()
    assert html.count(live_link(experiment)) == 2  # the sweep row and the feed entry

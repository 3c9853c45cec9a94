"""What a push carries: the groups an event goes to, the fragments per audience, the JSON event."""

import pytest

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.live.groups import GUEST_DASHBOARD, dashboard_group, experiment_group, targets_for
from apps.live.pushes import out_of_band, push_build
from apps.live.tests.conftest import experiment_of, record

pytestmark = pytest.mark.django_db


def test_an_event_goes_to_its_owners_dashboard_and_its_experiment_only(owner):
    experiment = experiment_of(owner)
    routed = targets_for([record(experiment)], guests=False)
    assert {target.group for target in routed} == {dashboard_group(owner.pk), experiment_group(experiment.pk)}


def test_guests_get_their_own_dashboard_group_only_while_guest_access_is_on(owner):
    experiment = experiment_of(owner)
    routed = targets_for([record(experiment)], guests=True)
    assert GUEST_DASHBOARD in {target.group for target in routed}
    assert all(target.guests for target in routed if target.group == experiment_group(experiment.pk))


def test_a_push_renders_the_owner_view_and_a_guest_view_only_when_guests_are_on(owner):
    experiment = experiment_of(owner, "Private work")
    event = record(experiment, Kind.NEW_BEST)
    [(closed, batch)] = [(t, b) for t, b in targets_for([event], guests=False).items() if t.scope == "experiment"]
    push = push_build(closed, batch)
    assert set(push["html"]) == {"owner"}
    assert 'id="experiment-timeline"' in push["html"]["owner"] and "Private work" in push["html"]["owner"]
    [(open_, batch)] = [(t, b) for t, b in targets_for([event], guests=True).items() if t.scope == "experiment"]
    assert set(push_build(open_, batch)["html"]) == {"owner", "guest"}


def test_the_guest_dashboard_shows_every_users_events(owner, other_user):
    record(experiment_of(other_user, "Theirs"))
    event = record(experiment_of(owner, "Mine"))
    [(guest, batch)] = [(t, b) for t, b in targets_for([event], guests=True).items() if t.group == GUEST_DASHBOARD]
    html = push_build(guest, batch)["html"]["guest"]
    assert "Mine" in html and "Theirs" in html


def test_an_owners_dashboard_shows_only_their_own_events(owner, other_user):
    record(experiment_of(other_user, "Theirs"))
    event = record(experiment_of(owner, "Mine"))
    [(mine, batch)] = [(t, b) for t, b in targets_for([event], guests=False).items() if t.scope == "dashboard"]
    html = push_build(mine, batch)["html"]["owner"]
    assert "Mine" in html and "Theirs" not in html


def test_a_fragment_whose_root_has_the_dom_id_is_swapped_as_it_is():
    html = '\n<section id="dashboard-feed" class="feed">…</section>\n'
    assert out_of_band(html, "dashboard-feed") == '<section id="dashboard-feed" class="feed">…</section>'


def test_a_fragment_without_the_dom_id_is_wrapped_to_fill_that_element():
    assert out_of_band("<li>one</li>", "dashboard-feed") == (
        '<div id="dashboard-feed" hx-swap-oob="innerHTML"><li>one</li></div>'
    )


def test_a_finished_run_pushes_the_dashboards_feed_sweeps_and_totals_but_not_its_bests(owner):
    event = record(experiment_of(owner, "Mine"), Kind.RUN_COMPLETED)
    [(mine, batch)] = [(t, b) for t, b in targets_for([event], guests=False).items() if t.scope == "dashboard"]
    html = push_build(mine, batch)["html"]["owner"]
    assert html.startswith('<section id="dashboard-feed"')
    assert 'id="dashboard-sweeps"' in html and 'id="dashboard-totals"' in html
    assert 'id="dashboard-bests"' not in html
    assert "A run finished." in html and "Mine" in html


def test_a_new_best_pushes_the_dashboards_recent_bests_with_its_score(owner):
    event = record(experiment_of(owner, "Mine"), Kind.NEW_BEST, weighted_score=0.875)
    [(mine, batch)] = [(t, b) for t, b in targets_for([event], guests=False).items() if t.scope == "dashboard"]
    html = push_build(mine, batch)["html"]["owner"]
    assert 'id="dashboard-bests"' in html and "0.875" in html


def test_the_guests_pushed_dashboard_has_no_invitation_to_start_a_sweep(owner):
    event = record(experiment_of(owner, "Mine"), Kind.RUN_COMPLETED)
    Event.objects.all().delete()  # the feed is empty again when the push renders
    [(guest, batch)] = [(t, b) for t, b in targets_for([event], guests=True).items() if t.group == GUEST_DASHBOARD]
    html = push_build(guest, batch)["html"]["guest"]
    assert "No activity yet." in html and "Start a sweep" not in html

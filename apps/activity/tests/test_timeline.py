"""Timelines show the reader's own events; a guest reads everyone's, as with experiments."""

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.activity.kinds import Kind
from apps.activity.selectors import dashboard_feed, timeline_for_experiment, timeline_for_sweep
from apps.activity.services import event_emit
from apps.activity.tests.builders import experiment_of

pytestmark = pytest.mark.django_db

STARTED_TO_BEST = ["experiment.started", "run.completed", "new_best_found"]


def kinds(events):
    return [event.kind for event in events]


def test_an_owner_reads_their_experiments_timeline_newest_first(owner, timeline):
    experiment, sweep = timeline
    assert kinds(timeline_for_experiment(user=owner, experiment_id=experiment.pk)) == STARTED_TO_BEST[::-1]
    assert kinds(timeline_for_sweep(user=owner, sweep_id=sweep.pk)) == STARTED_TO_BEST[::-1]
    assert kinds(dashboard_feed(user=owner)) == STARTED_TO_BEST[::-1]


def test_another_user_reads_nothing_of_someone_elses_timeline(other_user, timeline):
    experiment, sweep = timeline
    assert not timeline_for_experiment(user=other_user, experiment_id=experiment.pk).exists()
    assert not timeline_for_sweep(user=other_user, sweep_id=sweep.pk).exists()
    assert dashboard_feed(user=other_user) == []


def test_the_dashboard_shows_each_user_only_their_own_experiments(owner, other_user, timeline):
    theirs = experiment_of(other_user, "theirs")
    event_emit(kind=Kind.SWEEP_STARTED, experiment=theirs)
    assert {event.experiment_id for event in dashboard_feed(user=other_user)} == {theirs.pk}
    assert {event.experiment_id for event in dashboard_feed(user=owner)} == {timeline[0].pk}


def test_a_guest_reads_every_users_timeline(other_user, timeline):
    experiment, _ = timeline
    event_emit(kind=Kind.SWEEP_STARTED, experiment=experiment_of(other_user, "theirs"))
    guest = AnonymousUser()
    assert kinds(timeline_for_experiment(user=guest, experiment_id=experiment.pk)) == STARTED_TO_BEST[::-1]
    assert len(dashboard_feed(user=guest)) == 4


def test_a_timeline_can_be_filtered_by_kind(owner, timeline):
    experiment, _ = timeline
    only = [Kind.NEW_BEST, Kind.SWEEP_STARTED]
    assert kinds(timeline_for_experiment(user=owner, experiment_id=experiment.pk, kinds=only)) == [
        "new_best_found", "experiment.started",
    ]


def test_the_dashboard_shows_only_the_newest_events(owner, timeline):
    assert kinds(dashboard_feed(user=owner, limit=2)) == ["new_best_found", "run.completed"]

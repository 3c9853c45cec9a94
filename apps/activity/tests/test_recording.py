"""Every event write goes through one function, so a surface can act in the same transaction."""

import pytest

from apps.activity import services
from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.activity.services import event_build, event_emit, events_record, on_events_recorded
from apps.activity.tests.builders import experiment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(monkeypatch):
    monkeypatch.setattr(services, "_recorded_hooks", [])
    recorded = []
    on_events_recorded(lambda events: recorded.extend((event.pk, event.kind) for event in events))
    return recorded


def test_a_registered_hook_sees_every_recorded_event_with_its_id(owner, seen):
    experiment = experiment_of(owner)
    one = event_emit(kind=Kind.SWEEP_STARTED, experiment=experiment)
    many = events_record(events=[event_build(kind=Kind.RUN_COMPLETED, experiment=experiment) for _ in range(2)])
    assert seen == [(one.pk, "experiment.started")] + [(event.pk, "run.completed") for event in many]
    assert all(pk is not None for pk, _ in seen)


def test_events_carry_the_experiments_owner_and_project(owner):
    experiment = experiment_of(owner)
    event = event_emit(kind=Kind.RUN_FAILED, experiment=experiment, payload={"error": "boom"})
    stored = Event.objects.get(pk=event.pk)
    assert (stored.owner_id, stored.project_id, stored.payload) == (owner.pk, experiment.project_id, {"error": "boom"})
    assert list(experiment.events.all()) == [stored]


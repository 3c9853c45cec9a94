"""Writes of timeline events. Every Event row is inserted by `events_record`, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from apps.activity.models import Event

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

RecordedHook = Callable[[list[Event]], None]
# Surfaces above activity (a webhook outbox, say) register here from their AppConfig.ready;
# a hook runs inside the writing transaction, so whatever it writes commits or rolls back with the events.
_recorded_hooks: list[RecordedHook] = []


def on_events_recorded(hook: RecordedHook) -> None:
    """Call `hook(events)` with the saved rows whenever events are recorded."""
    if hook not in _recorded_hooks:
        _recorded_hooks.append(hook)


def event_build(
    *, kind: str, experiment: Experiment, sweep: Any = None, run_id: Any = None, payload: dict[str, Any] | None = None
) -> Event:
    """An unsaved Event (`sweep` is a sweep or its id), for callers that record many at once."""
    return Event(
        kind=kind,
        owner_id=experiment.project.owner_id,
        project_id=experiment.project_id,
        experiment_id=experiment.pk,
        sweep_id=getattr(sweep, "pk", sweep),
        run_id=run_id,
        payload=payload or {},
    )


def events_record(*, events: Sequence[Event]) -> list[Event]:
    """Insert the events in one statement and tell the registered hooks; returns them with ids."""
    if not events:
        return []
    rows = Event.objects.bulk_create(events)
    for hook in _recorded_hooks:
        hook(rows)
    return rows


def owner_event_emit(
    *, kind: str, owner_id: Any, project_id: Any = None, payload: dict[str, Any] | None = None
) -> Event:
    """Record one event that belongs to no experiment (a deployment's, say): the owner's timeline and webhooks."""
    event = Event(kind=kind, owner_id=owner_id, project_id=project_id, payload=payload or {})
    return events_record(events=[event])[0]


def event_emit(
    *, kind: str, experiment: Experiment, sweep: Any = None, run_id: Any = None, payload: dict[str, Any] | None = None
) -> Event:
    """Record one event."""
    event = event_build(kind=kind, experiment=experiment, sweep=sweep, run_id=run_id, payload=payload)
    return events_record(events=[event])[0]

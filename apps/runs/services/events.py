"""Event rows: the timeline, the live views and webhooks all read the same rows."""

from __future__ import annotations

from typing import Any

from apps.runs.models import Event


class Kind:
    SWEEP_STARTED = "experiment.started"
    SWEEP_PAUSED = "experiment.paused"
    SWEEP_RESUMED = "experiment.resumed"
    SWEEP_STOPPED = "experiment.stopped"
    SWEEP_COMPLETED = "experiment.completed"
    SWEEP_REDIRECTED = "experiment.redirected"
    SWEEP_INTERRUPTED = "experiment.interrupted"
    SWEEP_FAILED = "experiment.failed"
    DRIVER_CRASHED = "driver.crashed"
    EXPERIMENT_FORKED = "experiment.forked"
    BUDGET_EXHAUSTED = "budget.exhausted"
    RUN_STARTED = "run.started"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"
    RUN_CACHED = "run.cached"
    RUN_APPROVED = "run.approved"
    RUN_REJECTED = "run.rejected"
    CACHE_INVALIDATED = "cache.invalidated"
    NEW_BEST = "new_best_found"
    GUIDED_BATCH = "sweep.batch_planned"
    RUN_RATED = "run.rated"
    RESCORE_STARTED = "scoring.started"
    RESCORE_PROGRESS = "scoring.progress"
    RESCORE_COMPLETED = "scoring.completed"


def event_build(*, kind: str, experiment, sweep=None, run_id=None, payload: dict[str, Any] | None = None) -> Event:
    """An unsaved Event, for callers that insert many at once with bulk_create."""
    return Event(
        kind=kind,
        owner_id=experiment.project.owner_id,
        project_id=experiment.project_id,
        experiment_id=experiment.pk,
        sweep_id=getattr(sweep, "pk", sweep),
        run_id=run_id,
        payload=payload or {},
    )


def event_emit(*, kind: str, experiment, sweep=None, run_id=None, payload: dict[str, Any] | None = None) -> Event:
    event = event_build(kind=kind, experiment=experiment, sweep=sweep, run_id=run_id, payload=payload)
    event.save()
    return event

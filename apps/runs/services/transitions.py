"""Guarded status changes: every sweep and experiment status write goes through here.

A transition is one conditional UPDATE from the statuses allowed to reach the target, so two
writers racing on one sweep (a pause and the driver's completion) cannot both win: the loser
updates no row and is told so. The experiment's status is not set by callers; it follows from its
sweeps, recomputed under a lock on the experiment row after each sweep transition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from apps.core.types import Id
from apps.experiments.models import Experiment
from apps.runs.models import Sweep

S = Sweep.Status
# Source → the statuses it may move to. Completed, stopped and failed are final.
SWEEP_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.RUNNING, S.PAUSED, S.COMPLETED, S.STOPPED, S.FAILED}),
    S.RUNNING: frozenset({S.PAUSED, S.COMPLETED, S.STOPPED, S.FAILED}),
    S.PAUSED: frozenset({S.RUNNING, S.STOPPED}),
    S.COMPLETED: frozenset(),
    S.STOPPED: frozenset(),
    S.FAILED: frozenset(),
}
SWEEP_ACTIVE = (S.PENDING, S.RUNNING)
SWEEP_FINAL = tuple(status for status, targets in SWEEP_TRANSITIONS.items() if not targets)

E = Experiment.Status
# An experiment summarises its sweeps, so any summary may follow any other; it never returns to draft.
EXPERIMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    E.DRAFT: frozenset({E.RUNNING, E.PAUSED, E.COMPLETED}),
    E.RUNNING: frozenset({E.PAUSED, E.COMPLETED}),
    E.PAUSED: frozenset({E.RUNNING, E.COMPLETED}),
    E.COMPLETED: frozenset({E.RUNNING, E.PAUSED}),
}


def _sources(table: dict[str, frozenset[str]], to: str) -> set[str]:
    return {source for source, targets in table.items() if to in targets}


def sweep_transition(
    *, sweep_id: Id, to: str, only_from: Iterable[str] | None = None, **fields: Any
) -> Sweep | None:
    """Move the sweep to `to` (writing `fields` too) if its status allows; None when it did not move.

    `only_from` narrows the allowed sources (the driver starts only a pending sweep, never a paused one).
    """
    sources = _sources(SWEEP_TRANSITIONS, to)
    if only_from is not None:
        sources &= set(only_from)
    with transaction.atomic():
        if not Sweep.objects.filter(pk=sweep_id, status__in=sources).update(status=to, **fields):
            return None
        sweep = Sweep.objects.select_related("experiment__project").get(pk=sweep_id)
        experiment_status_sync(experiment_id=sweep.experiment_id)
    return sweep


def experiment_status_of(sweep_statuses: list[str]) -> str | None:
    """The experiment status its sweeps (newest first) imply; None for an experiment with no sweep."""
    if not sweep_statuses:
        return None
    if any(status in SWEEP_ACTIVE for status in sweep_statuses):
        return E.RUNNING
    return E.PAUSED if sweep_statuses[0] == S.PAUSED else E.COMPLETED


def experiment_transition(*, experiment_id: Id, to: str, **fields: Any) -> bool:
    """Set the experiment's status to `to` (or keep it there) if allowed; False when it did not."""
    sources = _sources(EXPERIMENT_TRANSITIONS, to) | {to}
    return bool(Experiment.objects.filter(pk=experiment_id, status__in=sources).update(status=to, **fields))


def experiment_status_sync(*, experiment_id: Id, **fields: Any) -> str | None:
    """Recompute the experiment's status from its sweeps; returns the status it now has."""
    with transaction.atomic():
        # The lock orders concurrent syncs, so the last one to commit read every sweep change before it.
        current = (Experiment.objects.select_for_update(no_key=True).filter(pk=experiment_id)
                   .values_list("status", flat=True).first())
        statuses = list(Sweep.objects.filter(experiment_id=experiment_id).order_by("-created_at")
                        .values_list("status", flat=True))
        to = experiment_status_of(statuses)
        if current is None or to is None or (to == current and not fields):
            return current
        return to if experiment_transition(experiment_id=experiment_id, to=to, **fields) else current

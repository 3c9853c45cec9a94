"""Reads of sweeps and runs, shared by REST, HTML, MCP and tasks."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.runs.models import Run, StageResult, Sweep

OWNER = "experiment__project__owner"


def run_list(*, user: Viewer, experiment_id: Id) -> QuerySet[Run]:
    qs = Run.objects.filter(experiment_id=experiment_id).select_related("experiment")
    return visible_to(qs, user, owner=OWNER).defer("config")


def run_get(*, user: Viewer, run_id: Id, outputs: bool = True) -> Run:
    """One visible run; `outputs=False` leaves its stage results and scores to a paginated read (run_outputs)."""
    qs = visible_to(Run.objects.select_related("experiment__project", "sweep"), user, owner=OWNER)
    if not outputs:
        return get_object_or_404(qs, pk=run_id)
    return get_object_or_404(
        qs.prefetch_related(
            Prefetch("stage_results", queryset=StageResult.objects.order_by("item_id", "repeat", "stage_index")),
            "scores",
        ),
        pk=run_id,
    )


def sweep_list(*, user: Viewer, experiment_id: Id) -> QuerySet[Sweep]:
    return visible_to(Sweep.objects.filter(experiment_id=experiment_id), user, owner=OWNER)


def sweep_get(*, user: Viewer, sweep_id: Id) -> Sweep:
    return get_object_or_404(visible_to(Sweep.objects.all(), user, owner=OWNER), pk=sweep_id)

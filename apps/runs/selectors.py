"""Reads of sweeps and runs, shared by REST, HTML, MCP and tasks."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from apps.runs.models import Run, StageResult, Sweep


def _visible(qs: QuerySet, user, owner_path: str) -> QuerySet:
    return qs if not user.is_authenticated else qs.filter(**{owner_path: user})


def run_list(*, user, experiment_id) -> QuerySet[Run]:
    qs = Run.objects.filter(experiment_id=experiment_id).select_related("experiment")
    return _visible(qs, user, "experiment__project__owner").defer("config")


def run_get(*, user, run_id) -> Run:
    qs = _visible(Run.objects.select_related("experiment__project", "sweep"), user, "experiment__project__owner")
    return get_object_or_404(
        qs.prefetch_related(
            Prefetch("stage_results", queryset=StageResult.objects.order_by("item_id", "repeat", "stage_index")),
            "scores",
        ),
        pk=run_id,
    )


def sweep_list(*, user, experiment_id) -> QuerySet[Sweep]:
    return _visible(Sweep.objects.filter(experiment_id=experiment_id), user, "experiment__project__owner")


def sweep_get(*, user, sweep_id) -> Sweep:
    return get_object_or_404(_visible(Sweep.objects.all(), user, "experiment__project__owner"), pk=sweep_id)

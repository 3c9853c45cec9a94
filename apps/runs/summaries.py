"""Read models of experiments over their runs: counts, best score, top runs (shared by REST and pages)."""

from __future__ import annotations

import uuid

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.core.types import Viewer
from apps.experiments.models import Experiment
from apps.experiments.selectors import experiment_list
from apps.projects.models import Project
from apps.runs.models import Run, Sweep

TOP_RUNS = 5


def _best_score() -> Max:
    # Rejected runs never count as an experiment's best.
    return Max("runs__weighted_score", filter=~Q(runs__approval=Run.Approval.REJECTED))


def experiment_summary_list(*, user: Viewer, project_id: uuid.UUID | str | None = None) -> QuerySet[Experiment]:
    """Visible experiments with run count, completed (or cached) run count and best score."""
    return experiment_list(user=user, project_id=project_id).annotate(
        run_count=Count("runs"),
        completed_run_count=Count("runs", filter=Q(runs__status__in=Run.FINISHED)),
        best_score=_best_score(),
    )


def experiment_summary_get(*, user: Viewer, experiment_id: uuid.UUID | str) -> Experiment:
    """One visible experiment with the annotations of experiment_summary_list, or Http404."""
    return get_object_or_404(experiment_summary_list(user=user), pk=experiment_id)


def experiment_run_summary(*, experiment: Experiment) -> dict:
    """Run counts by status and the top runs by weighted score (rejected runs left out)."""
    counts = Run.objects.filter(experiment=experiment).counts_by_status()
    top = list(
        Run.objects.filter(experiment=experiment, weighted_score__isnull=False)
        .exclude(approval=Run.Approval.REJECTED)
        .order_by("-weighted_score", "created_at")
        .only("id", "status", "approval", "weighted_score", "tokens_in", "tokens_out", "cost_estimate")[:TOP_RUNS]
    )
    return {
        "total": sum(counts.values()),
        "by_status": counts,
        "top": top,
    }


def project_experiment_summaries(*, project: Project) -> QuerySet[Experiment]:
    """The project's experiments with run count and best weighted score (rejected runs excluded)."""
    return (
        Experiment.objects.filter(project=project)
        .annotate(run_count=Count("runs"), best_score=_best_score())
        .order_by("-updated_at")
    )


def user_totals(*, user: Viewer) -> dict:
    """Run count, tokens, cost and cache-hit rate over every run the user may read (their own)."""
    totals = visible_to(Run.objects.all(), user, owner="experiment__project__owner").totals()
    totals["tokens"] = totals["tokens_in"] + totals["tokens_out"]
    totals["cache_hit_rate"] = totals["cache_hits"] / totals["calls"] if totals["calls"] else None
    return totals


def active_sweeps(*, user: Viewer) -> QuerySet[Sweep]:
    """Sweeps not finished yet (queued, running or paused) that the user may read, newest first."""
    active = (Sweep.Status.PENDING, Sweep.Status.RUNNING, Sweep.Status.PAUSED)
    qs = Sweep.objects.filter(status__in=active).select_related("experiment__project")
    return visible_to(qs, user, owner="experiment__project__owner").order_by("-created_at")

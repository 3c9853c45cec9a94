"""Read models of experiments over their runs: counts, best score, top runs (shared by REST and pages)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

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


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands: runs done of planned, spend against its budgets, throughput and ETA."""

    sweep: Sweep
    runs_done: int
    runs_total: int
    pending: int
    in_flight: int  # runs leased by a driver, their calls under way
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost: Decimal
    eta: timedelta | None  # None: unknown (nothing finished yet, or the sweep is not running)

    @property
    def active(self) -> bool:
        return self.sweep.status in (Sweep.Status.PENDING, Sweep.Status.RUNNING, Sweep.Status.PAUSED)

    @property
    def running(self) -> bool:
        return self.sweep.status in (Sweep.Status.PENDING, Sweep.Status.RUNNING)

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def cache_hit_rate(self) -> float | None:
        return self.cache_hits / self.calls if self.calls else None


def _eta(sweep: Sweep, *, done: int, remaining: int, now: datetime) -> timedelta | None:
    """The remaining runs at the rate runs finished since the sweep started."""
    if sweep.status != Sweep.Status.RUNNING or sweep.started_at is None or not done or not remaining:
        return None
    elapsed = (now - sweep.started_at).total_seconds()
    return timedelta(seconds=round(elapsed / done * remaining)) if elapsed > 0 else None


def sweep_progress(*, experiment: Experiment) -> SweepProgress | None:
    """The experiment's latest sweep (ad-hoc single runs aside) and its progress; None before the first."""
    sweep = experiment.sweeps.exclude(kind=Sweep.Kind.SINGLE).order_by("-created_at").first()
    if sweep is None:
        return None
    runs = Run.objects.filter(sweep=sweep)
    totals = runs.totals(pending=Count("status", filter=Q(status=Run.Status.PENDING)),
                         in_flight=Count("status", filter=Q(status=Run.Status.RUNNING)))
    return SweepProgress(
        sweep=sweep, runs_done=totals["terminal"], runs_total=totals["runs"], pending=totals["pending"],
        in_flight=totals["in_flight"], calls=totals["calls"], cache_hits=totals["cache_hits"],
        tokens_in=totals["tokens_in"], tokens_out=totals["tokens_out"], cost=totals["cost"],
        eta=_eta(sweep, done=totals["terminal"], remaining=totals["pending"] + totals["in_flight"],
                 now=timezone.now()),
    )

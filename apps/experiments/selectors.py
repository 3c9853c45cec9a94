from __future__ import annotations

import uuid

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run

_FINISHED = (Run.Status.COMPLETED, Run.Status.CACHED)
TOP_RUNS = 5


def experiment_list(*, user, project_id: uuid.UUID | str | None = None) -> QuerySet[Experiment]:
    """Experiments the user may see (own; a guest sees all) with run counts and the best score."""
    qs = Experiment.objects.all() if not user.is_authenticated else Experiment.objects.filter(project__owner=user)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs.select_related("project").annotate(
        run_count=Count("runs"),
        completed_run_count=Count("runs", filter=Q(runs__status__in=_FINISHED)),
        best_score=Max("runs__weighted_score", filter=~Q(runs__approval=Run.Approval.REJECTED)),
    )


def experiment_get(*, user, experiment_id: uuid.UUID | str) -> Experiment:
    """One visible experiment, or Http404 (another user's experiment does not exist for you)."""
    return get_object_or_404(experiment_list(user=user), pk=experiment_id)


def experiment_run_summary(*, experiment: Experiment) -> dict:
    """Run counts by status and the top runs by weighted score (rejected runs left out)."""
    counts = dict(
        Run.objects.filter(experiment=experiment).order_by().values_list("status").annotate(n=Count("id"))
    )
    top = list(
        Run.objects.filter(experiment=experiment, weighted_score__isnull=False)
        .exclude(approval=Run.Approval.REJECTED)
        .order_by("-weighted_score", "created_at")
        .only("id", "status", "approval", "weighted_score", "tokens_in", "tokens_out", "cost_estimate")[:TOP_RUNS]
    )
    return {
        "total": sum(counts.values()),
        "by_status": {status: counts.get(status, 0) for status in Run.Status.values},
        "top": top,
    }


def user_project(*, user, project_id: uuid.UUID | str) -> Project | None:
    """The user's own project with this id, or None (to create experiments in)."""
    return Project.objects.filter(owner=user, pk=project_id).first()


def user_endpoint_ids(*, user) -> set[str]:
    return {str(pk) for pk in Endpoint.objects.filter(owner=user).values_list("id", flat=True)}

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.experiments.models import Experiment
from apps.projects.models import ExportRecord, Project, SavedConfig
from apps.runs.models import Run


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user may see: their own; a guest (anonymous, guest access on) sees all."""
    qs = Project.objects.all() if not user.is_authenticated else Project.objects.filter(owner=user)
    return qs.annotate(experiment_count=Count("experiments")).order_by("-updated_at")


def project_get(*, user, project_id) -> Project:
    """One project the user may read (404 otherwise, so other users' ids reveal nothing)."""
    return get_object_or_404(project_list(user=user), pk=project_id)


def project_get_owned(*, user, project_id) -> Project:
    """One project the user may change: only their own."""
    return get_object_or_404(Project, pk=project_id, owner=user)


def project_experiment_summaries(*, project: Project) -> QuerySet[Experiment]:
    """The project's experiments with run count and best weighted score (rejected runs excluded)."""
    return (
        Experiment.objects.filter(project=project)
        .annotate(
            run_count=Count("runs"),
            best_score=Max("runs__weighted_score", filter=~Q(runs__approval=Run.Approval.REJECTED)),
        )
        .order_by("-updated_at")
    )


def saved_config_list(*, project: Project) -> QuerySet[SavedConfig]:
    return SavedConfig.objects.filter(project=project).order_by("-created_at")


def export_list(*, project: Project) -> QuerySet[ExportRecord]:
    return (
        ExportRecord.objects.filter(project=project)
        .select_related("experiment", "created_by")
        .order_by("-created_at")
    )

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.projects.models import Project


def project_list(*, user: Viewer) -> QuerySet[Project]:
    """Projects the user may see: their own; a guest (anonymous, guest access on) sees all."""
    qs = visible_to(Project.objects.all(), user)
    return qs.annotate(experiment_count=Count("experiments")).order_by("-updated_at")


def project_get(*, user: Viewer, project_id: Id) -> Project:
    """One project the user may read (404 otherwise, so other users' ids reveal nothing)."""
    return get_object_or_404(project_list(user=user), pk=project_id)


def project_get_owned(*, user: Viewer, project_id: Id) -> Project:
    """One project the user may change: only their own."""
    return get_object_or_404(visible_to(Project.objects.all(), user, guest_readable=False), pk=project_id)

from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.projects.models import Project


def project_list(*, user) -> QuerySet[Project]:
    """Projects the user may see: their own; a guest (anonymous, guest access on) sees all."""
    qs = Project.objects.all() if not user.is_authenticated else Project.objects.filter(owner=user)
    return qs.annotate(experiment_count=Count("experiments")).order_by("-updated_at")

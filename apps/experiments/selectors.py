"""Reads of experiments that need no runs. Run counts and scores: apps.runs.summaries."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.core.types import Viewer
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project


def experiment_list(*, user: Viewer, project_id: uuid.UUID | str | None = None) -> QuerySet[Experiment]:
    """Experiments the user may see: their own; a guest (anonymous, guest access on) sees all."""
    qs = visible_to(Experiment.objects.all(), user, owner="project__owner")
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return qs.select_related("project")


def experiment_get(*, user: Viewer, experiment_id: uuid.UUID | str) -> Experiment:
    """One visible experiment, or Http404 (another user's experiment does not exist for you)."""
    return get_object_or_404(experiment_list(user=user), pk=experiment_id)


def user_project(*, user: Viewer, project_id: uuid.UUID | str) -> Project | None:
    """The user's own project with this id, or None (to create experiments in)."""
    return visible_to(Project.objects.filter(pk=project_id), user, guest_readable=False).first()


def user_endpoint_ids(*, user: Viewer) -> set[str]:
    """Ids (as strings) of the endpoints the user owns."""
    owned = visible_to(Endpoint.objects.all(), user, guest_readable=False)
    return {str(pk) for pk in owned.values_list("id", flat=True)}

"""Reads of deployments, their keys and versions, with ownership applied (another user's: NotFound)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.ids import canonical_uuid
from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.deployments.models import Deployment, DeploymentKey, PromptVersion


def deployments_for(*, user: Viewer) -> QuerySet[Deployment]:
    """The user's own deployments, by name; never a guest's (they hold production prompts and keys)."""
    qs = visible_to(Deployment.objects.all(), user, guest_readable=False)
    return qs.select_related("endpoint", "project").order_by("name")


def deployment_get(*, user: Viewer, deployment_id: Id) -> Deployment:
    pk = canonical_uuid(deployment_id)
    deployment = deployments_for(user=user).filter(pk=pk).first() if pk else None
    if deployment is None:
        raise NotFound("No such deployment.")
    return deployment


def versions_for(*, deployment: Deployment) -> QuerySet[PromptVersion]:
    """A deployment's versions, newest first."""
    return PromptVersion.objects.filter(deployment=deployment).order_by("-number")


def version_get(*, user: Viewer, version_id: Id) -> PromptVersion:
    pk = canonical_uuid(version_id)
    qs = visible_to(PromptVersion.objects.select_related("deployment"), user, owner="deployment__owner",
                    guest_readable=False)
    version = qs.filter(pk=pk).first() if pk else None
    if version is None:
        raise NotFound("No such prompt version.")
    return version


def deployment_keys_for(*, deployment: Deployment) -> QuerySet[DeploymentKey]:
    """A deployment's keys, newest first, revoked ones included (the list shows when each was revoked)."""
    return DeploymentKey.objects.filter(deployment=deployment).order_by("-created_at")


def deployment_active_version(*, deployment: Deployment) -> PromptVersion | None:
    return PromptVersion.objects.filter(deployment=deployment, is_active=True).first()

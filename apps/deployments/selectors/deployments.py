"""Reads of deployments, their keys and versions, with ownership applied (another user's: NotFound)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.core.errors import NotFound
from apps.core.ids import canonical_uuid
from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.deployments.models import AbTest, Deployment, DeploymentKey, GatewayRequest, PromptVersion


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


@dataclass(frozen=True)
class DeploymentRow:
    """A listed deployment with what a list shows of it."""

    deployment: Deployment
    active: PromptVersion | None
    ab_test: AbTest | None  # its running or paused test, the newest if several
    requests_24h: int


def deployment_rows(*, deployments: list[Deployment]) -> list[DeploymentRow]:
    """Each deployment with its active version, its live A/B test and its last day's requests: 3 queries."""
    ids = [deployment.pk for deployment in deployments]
    active = {v.deployment_id: v for v in PromptVersion.objects.filter(deployment_id__in=ids, is_active=True)}
    live = [AbTest.Status.RUNNING, AbTest.Status.PAUSED]
    # Oldest first, so a deployment's newest live test is the one kept.
    tests = {t.deployment_id: t for t in AbTest.objects.filter(deployment_id__in=ids, status__in=live)
             .order_by("created_at")}
    since = timezone.now() - timedelta(hours=24)
    counts = dict(GatewayRequest.objects.filter(deployment_id__in=ids, created_at__gte=since).order_by()
                  .values_list("deployment_id").annotate(n=Count("id")).values_list("deployment_id", "n"))
    return [DeploymentRow(deployment=d, active=active.get(d.pk), ab_test=tests.get(d.pk),
                          requests_24h=counts.get(d.pk, 0)) for d in deployments]

"""The deployments part of the page matrix's world: a deployment of the owner with a key, three versions,
a draft A/B test and a few gateway requests (built by matrix_fixtures.world_build)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.deployments.models import AbTest, Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.deployments.services.abtests import ab_test_create
from apps.deployments.services.deployments import deployment_create
from apps.deployments.services.keys import deployment_key_create
from apps.deployments.services.versions import version_create


@dataclass
class DeploymentWorld:
    deployment: Deployment
    key: DeploymentKey
    active: PromptVersion  # v1, the active version: the control of `draft`
    candidate: PromptVersion  # v2, a variant of `draft`
    spare: PromptVersion  # v3, in no test: it may be activated or deleted
    draft: AbTest  # v1 against v2, never started


def deployments_build(*, owner, endpoint) -> DeploymentWorld:
    deployment = deployment_create(owner=owner, name="Support bot", endpoint=endpoint, model="fake-chat",
                                   params={"max_tokens": 32}, description="Answers support emails")
    key, _ = deployment_key_create(deployment=deployment, name="production")
    active, _ = version_create(deployment=deployment, system_prompt="You answer support emails.",
                               description="First prompt", created_by=owner.username)
    candidate, _ = version_create(deployment=deployment, system_prompt="You answer support emails briefly.",
                                  description="Shorter answers", created_by=owner.username)
    spare, _ = version_create(deployment=deployment, system_prompt="You answer support emails warmly.",
                              user_template="Email: {{ input }}", created_by=owner.username)
    draft = ab_test_create(deployment=deployment, name="Brevity", variants=[
        {"name": "v1 (control)", "version": active, "weight": 50},
        {"name": "v2", "version": candidate, "weight": 50}])
    variants = list(draft.variants.order_by("position"))
    now = timezone.now()
    GatewayRequest.objects.bulk_create(
        GatewayRequest(deployment=deployment, version=variant.version, ab_test=draft, variant=variant,
                       session_id=f"s{n}", endpoint=endpoint, model="fake-chat", status_code=200,
                       success=n % 3 != 0, latency_ms=40 + n, tokens_in=10, tokens_out=5, cost_usd="0.0001",
                       created_at=now - timedelta(minutes=n))
        for n in range(12) for variant in variants)
    return DeploymentWorld(deployment=deployment, key=key, active=active, candidate=candidate, spare=spare,
                           draft=draft)

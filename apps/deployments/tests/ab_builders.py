"""Builders for A/B test tests (owner 12b): a deployment with versions, a test over them, and request rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from apps.deployments.models import AbTest, AbVariant, GatewayRequest
from apps.deployments.services.abtests import ab_test_create
from apps.deployments.tests.builders import make_deployment, make_version


def ab_setup(owner, *, variants: int = 2, **fields) -> AbTest:
    """A draft test on a new deployment: variant i uses version i + 1 (version 1, the control, is active)."""
    deployment = make_deployment(owner, name=fields.pop("deployment_name", "support-bot"))
    versions = [make_version(deployment, f"Prompt number {i + 1}.") for i in range(variants)]
    return ab_test_create(deployment=deployment, name=fields.pop("name", "Tone"), created_by=owner.username,
                          variants=[{"version": version, "weight": 1} for version in versions], **fields)


def add_requests(variant: AbVariant, n: int, *, successes: int, latency_ms: int = 1000, cost: str = "0.001",
                 helpful: list[bool | None] | None = None, at: datetime.datetime | None = None) -> None:
    """`n` gateway requests routed to `variant`, the first `successes` of them successful."""
    at = at or timezone.now()
    test = variant.ab_test
    helpful = helpful or []
    GatewayRequest.objects.bulk_create([
        GatewayRequest(deployment_id=test.deployment_id, version_id=variant.version_id, ab_test=test, variant=variant,
                       session_id=f"s{i}", model="fake-chat", status_code=200, success=i < successes,
                       latency_ms=latency_ms, cost_usd=Decimal(cost), created_at=at,
                       helpful=helpful[i] if i < len(helpful) else None)
        for i in range(n)])


def arms(ab_test: AbTest) -> list[AbVariant]:
    return list(ab_test.variants.order_by("position"))

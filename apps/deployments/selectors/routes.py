"""The gateway's routing table: what a deployment forwards to and which prompt it applies, cached per process.

A request costs one indexed read (`route_for_key`, through `deployment_key_check`): the key (by its unique
prefix) joined to its deployment, which both authenticates (active key, active owner) and returns the deployment's stamp
(`revision`, bumped by every routing change, and the endpoint's `updated_at`). The table itself (endpoint
with its decrypted key, model, params, active version, running A/B test with its variants' prompts,
known system prompts for auto-tracking) is rebuilt only when that stamp changes, or after TABLE_TTL_S
(which also picks up a changed egress allowlist).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import Any

from apps.core.models import SystemSettings
from apps.deployments.models import AbTest, Deployment, PromptVersion
from apps.deployments.services.keys import deployment_key_check
from apps.deployments.success import DEFAULT_CRITERIA
from apps.endpoints.specs import endpoint_spec
from apps.engine.types import EndpointSpec

TABLE_TTL_S = 60.0


def prompt_digest(system_prompt: str) -> str:
    """How the gateway recognises a system prompt it has seen (auto-tracking): SHA-256 of its text."""
    return hashlib.sha256(system_prompt.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class VersionRoute:
    id: str
    number: int
    system_prompt: str
    user_template: str
    model: str
    params: dict


@dataclass(frozen=True)
class VariantRoute:
    id: str
    name: str
    version: VersionRoute


@dataclass(frozen=True)
class AbRoute:
    id: str
    variants: tuple[VariantRoute, ...]
    weights: tuple[int, ...]
    success_criteria: dict
    auto_complete: bool


@dataclass(frozen=True)
class RouteTable:
    """Everything the gateway needs to serve one deployment, without touching the database."""

    deployment_id: str
    name: str
    stamp: tuple
    endpoint: EndpointSpec
    endpoint_active: bool
    model: str
    params: dict
    auto_track: bool
    active: VersionRoute | None
    ab_test: AbRoute | None
    known_prompts: frozenset[str]
    allowlist_text: str
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def success_criteria(self) -> dict:
        return self.ab_test.success_criteria if self.ab_test else DEFAULT_CRITERIA

    def models(self) -> list[str]:
        """Every model this deployment may forward to (its own, and its routed versions' overrides)."""
        versions = [v.version for v in self.ab_test.variants] if self.ab_test else []
        names = [self.model] + [v.model for v in [self.active, *versions] if v is not None and v.model]
        return list(dict.fromkeys(names))


_TABLES: dict[str, RouteTable] = {}


def route_for_key(*, raw: str, now: float | None = None) -> RouteTable | None:
    """The routing table of the deployment behind an active raw key (active owner), else None.

    One indexed query authenticates and reads the stamp (deployment_key_check); the cached table is reused
    while the stamp holds.
    """
    now = time.monotonic() if now is None else now
    grant = deployment_key_check(raw=raw, now=now)
    if grant is None:
        return None
    return route_table(deployment_id=grant.deployment_id, stamp=grant.stamp, now=now)


def route_table(*, deployment_id: Any, stamp: tuple | None = None, now: float | None = None) -> RouteTable | None:
    """The cached table of `deployment_id` if its stamp still matches (and it is younger than TABLE_TTL_S)."""
    now = time.monotonic() if now is None else now
    cached = _TABLES.get(str(deployment_id))
    if cached is not None and (stamp is None or cached.stamp == stamp) and now - cached.loaded_at < TABLE_TTL_S:
        return cached
    table = route_table_load(deployment_id=deployment_id)
    if table is not None:
        if stamp is not None:  # the caller's stamp, read as the key query reads it, is what later calls compare
            table = replace(table, stamp=stamp, loaded_at=now)
        _TABLES[table.deployment_id] = table
    return table


def route_table_forget(*, deployment_id: Any = None) -> None:
    """Drop one cached table (or all): the next request reloads it."""
    if deployment_id is None:
        _TABLES.clear()
    else:
        _TABLES.pop(str(deployment_id), None)


def route_deployment(*, deployment_id: Any) -> Deployment | None:
    """The deployment row behind a routing table (for a service the gateway calls, e.g. tracking)."""
    return Deployment.objects.filter(pk=deployment_id).first()


def version_route(version: PromptVersion) -> VersionRoute:
    return VersionRoute(id=str(version.pk), number=version.number, system_prompt=version.system_prompt,
                        user_template=version.user_template, model=version.model, params=dict(version.params or {}))


def route_table_load(*, deployment_id: Any) -> RouteTable | None:
    """Build the table from the database (a handful of queries; only when the deployment changed)."""
    deployment = Deployment.objects.select_related("endpoint").filter(pk=deployment_id).first()
    if deployment is None:
        return None
    endpoint = deployment.endpoint
    versions = list(PromptVersion.objects.filter(deployment=deployment))
    active = next((v for v in versions if v.is_active), None)
    test = (AbTest.objects.filter(deployment=deployment, status=AbTest.Status.RUNNING)
            .prefetch_related("variants__version").first())
    ab_route = None
    if test is not None:
        variants = list(test.variants.all())
        ab_route = AbRoute(
            id=str(test.pk),
            variants=tuple(VariantRoute(id=str(v.pk), name=v.name, version=version_route(v.version)) for v in variants),
            weights=tuple(v.weight for v in variants),
            success_criteria={**DEFAULT_CRITERIA, **(test.success_criteria or {})},
            auto_complete=test.auto_complete,
        )
    return RouteTable(
        deployment_id=str(deployment.pk),
        name=deployment.name,
        stamp=(deployment.revision, endpoint.updated_at),
        endpoint=endpoint_spec(endpoint),
        endpoint_active=endpoint.is_active,
        model=deployment.model,
        params=dict(deployment.params or {}),
        auto_track=deployment.auto_track,
        active=version_route(active) if active else None,
        ab_test=ab_route if ab_route and ab_route.variants else None,
        known_prompts=frozenset(prompt_digest(v.system_prompt) for v in versions),
        allowlist_text=SystemSettings.load().egress_allowlist or "",
    )

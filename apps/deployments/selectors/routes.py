"""The gateway's routing table: what a deployment forwards to and which prompt it applies, cached per process.

A request costs one indexed read (`route_for_key`): the key (by its unique prefix) joined to its
deployment, which both authenticates (active key, active owner) and returns the deployment's stamp
(`revision`, bumped by every routing change, and the endpoint's `updated_at`). The table itself (endpoint
with its decrypted key, model, params, active version, running A/B test with its variants' prompts,
known system prompts for auto-tracking) is rebuilt only when that stamp changes, or after TABLE_TTL_S
(which also picks up a changed egress allowlist).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.core.models import SystemSettings
from apps.deployments.models import AbTest, Deployment, DeploymentKey, PromptVersion
from apps.deployments.services.keys import KEY_PREFIX, TOUCH_EVERY_S
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


def _sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


_SENTINEL = "\x00prefix\x00"
_key_sql: tuple[str, tuple, int] | None = None
_touched: dict[str, float] = {}


def _key_query() -> tuple[str, tuple, int]:
    """The key lookup's SQL, compiled by the ORM once: compiling it costs ~25x running it."""
    global _key_sql
    if _key_sql is None:
        query = (DeploymentKey.objects.active().filter(prefix=_SENTINEL, deployment__owner__is_active=True)
                 .order_by().values_list("pk", "hashed_key", "deployment_id", "deployment__revision",
                                         "deployment__endpoint__updated_at")[:1]).query
        sql, params = query.sql_with_params()
        _key_sql = (sql, tuple(params), params.index(_SENTINEL))
    return _key_sql


def _key_row(prefix: str) -> tuple | None:
    sql, params, index = _key_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params[:index], prefix, *params[index + 1:]))
        return cursor.fetchone()


def route_for_key(*, raw: str, now: float | None = None) -> RouteTable | None:
    """The routing table of the deployment behind an active raw key (active owner), else None.

    One indexed query authenticates and reads the stamp; the cached table is reused while the stamp holds.
    """
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX):
        return None
    prefix = raw[len(KEY_PREFIX):].split("_", 1)[0]
    if not prefix:
        return None
    hit = _key_row(prefix)
    if hit is None or not hmac.compare_digest(hit[1], _sha256(raw)):
        return None
    key_id, _, deployment_id, revision, endpoint_updated = hit
    now = time.monotonic() if now is None else now
    key = str(key_id)
    # Touch last_used_at at most once a minute per key and process, so reads stay reads.
    if now - _touched.get(key, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
        _touched[key] = now
        DeploymentKey.objects.filter(pk=key_id).update(last_used_at=timezone.now())
    # Raw values (a UUID is hex text on SQLite): normalised for the cache key, compared as-is in the stamp.
    return route_table(deployment_id=str(uuid.UUID(str(deployment_id))), stamp=(revision, endpoint_updated), now=now)


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

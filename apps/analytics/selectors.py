"""Model performance across offline sweeps (StageResult) and gateway traffic (GatewayRequest), per model and
endpoint: calls, latency, cost per call and error rate over a time window. Aggregated in the database (one
GROUP BY per source, one read of the endpoints), so the cost does not grow with the number of calls.

Rules, stated once (the page and the API say the same):
- a cache hit (a sweep call answered from the response cache) is not a call to the model: it is counted as a
  cache hit, costs nothing and is left out of calls, error rate and latency (it carries the original latency);
- a sweep call failed when it recorded an error; a gateway request failed when it was not answered (an upstream
  or gateway error, or an empty reply: `request_answered`), whatever an A/B test's criteria (a deployment that
  requires a helpful rating fails unrated requests in its test, but the model did not err) (docs/deployments.md,
  "What counts as a failed gateway request");
- latency is measured over successful calls only (a timeout or a refused request says little about speed);
- a sweep call's cost is its tokens at its endpoint's prices; a gateway request's is the cost it recorded;
- a model is "priced" when its endpoint's price table names it (else its cost shows as unknown, not as free).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import Count, Max, Min, Q, Sum

from apps.analytics.expressions import StageEndpoint
from apps.core.errors import InvalidInput
from apps.core.permissions import visible_to
from apps.core.types import Viewer
from apps.deployments.models import GatewayRequest
from apps.deployments.success import ANSWERED
from apps.endpoints.models import Endpoint
from apps.runs.models import StageResult

Source = Literal["all", "sweeps", "gateway"]
SOURCES: tuple[str, ...] = ("all", "sweeps", "gateway")
UNKNOWN_ENDPOINT = "unknown endpoint"
# What a failed call is, once per source (the module docstring says it in words).
SWEEP_CALL_FAILED = ~Q(error="")
GATEWAY_REQUEST_FAILED = ~ANSWERED


@dataclass
class ModelStats:
    """One model on one endpoint over the window."""

    model: str
    endpoint_id: str | None
    endpoint_label: str = UNKNOWN_ENDPOINT
    calls: int = 0  # calls to the model (cache hits excluded)
    sweep_calls: int = 0
    gateway_calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    timed_calls: int = 0  # successful calls: the latency sample
    latency_total_ms: int = 0
    min_latency_ms: int | None = None
    max_latency_ms: int | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    total_cost_usd: float = 0.0
    priced: bool = False

    @property
    def avg_latency_ms(self) -> float | None:
        return round(self.latency_total_ms / self.timed_calls, 1) if self.timed_calls else None

    @property
    def error_rate(self) -> float | None:
        """Percent (0-100) of the calls that failed."""
        return round(100 * self.errors / self.calls, 2) if self.calls else None

    @property
    def cost_per_call_usd(self) -> float | None:
        return self.total_cost_usd / self.calls if self.calls and self.priced else None

    def add(self, *, calls: int, errors: int, timed: int, latency_total: int | None, latency_min: int | None,
            latency_max: int | None, tokens_in: int | None, tokens_out: int | None, cost: float) -> None:
        self.calls += calls
        self.errors += errors
        self.timed_calls += timed
        self.latency_total_ms += latency_total or 0
        if latency_min is not None:
            self.min_latency_ms = latency_min if self.min_latency_ms is None else min(self.min_latency_ms, latency_min)
        if latency_max is not None:
            self.max_latency_ms = latency_max if self.max_latency_ms is None else max(self.max_latency_ms, latency_max)
        self.tokens_in += tokens_in or 0
        self.tokens_out += tokens_out or 0
        self.total_cost_usd += cost


@dataclass(frozen=True)
class Kpis:
    """The headline numbers of the analytics page, from the rows `model_performance` returned."""

    total_calls: int
    cache_hits: int
    errors: int
    avg_latency_ms: float | None  # over every successful call of every model
    fastest: ModelStats | None  # lowest average latency
    cheapest: ModelStats | None  # lowest cost per call, among priced models
    models: int = 0
    unpriced: int = 0  # models with calls but no price

    @property
    def error_rate(self) -> float | None:
        return round(100 * self.errors / self.total_calls, 2) if self.total_calls else None


def _endpoint_key(value: object) -> str | None:
    """One spelling per endpoint id (a config may hold it with or without dashes)."""
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _window_filter(since: datetime | None, until: datetime | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(created_at__gte=since)
    if until is not None:
        q &= Q(created_at__lt=until)
    return q


def _sweep_groups(user: Viewer, when: Q) -> list[dict]:
    live = Q(cached=False)
    failed, ok = live & SWEEP_CALL_FAILED, live & ~SWEEP_CALL_FAILED
    rows = visible_to(StageResult.objects.all(), user, owner="run__experiment__project__owner",
                      guest_readable=False)
    return list(
        rows.filter(when)
        .annotate(endpoint_ref=StageEndpoint())
        .values("model_used", "endpoint_ref")
        .annotate(
            calls=Count("id", filter=live), cache_hits=Count("id", filter=Q(cached=True)),
            errors=Count("id", filter=failed), timed=Count("id", filter=ok),
            latency_total=Sum("latency_ms", filter=ok), latency_min=Min("latency_ms", filter=ok),
            latency_max=Max("latency_ms", filter=ok),
            tokens_in=Sum("tokens_in", filter=live), tokens_out=Sum("tokens_out", filter=live),
        )
        .order_by()
    )


def _gateway_groups(user: Viewer, when: Q) -> list[dict]:
    failed = GATEWAY_REQUEST_FAILED
    rows = visible_to(GatewayRequest.objects.all(), user, owner="deployment__owner", guest_readable=False)
    return list(
        rows.filter(when)
        .values("model", "endpoint_id")
        .annotate(
            calls=Count("id"), errors=Count("id", filter=failed), timed=Count("id", filter=~failed),
            latency_total=Sum("latency_ms", filter=~failed), latency_min=Min("latency_ms", filter=~failed),
            latency_max=Max("latency_ms", filter=~failed),
            tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost=Sum("cost_usd"),
        )
        .order_by()
    )


def _endpoints(user: Viewer, keys: set[str]) -> dict[str, Endpoint]:
    ids = []
    for key in keys:
        try:
            ids.append(uuid.UUID(key))
        except ValueError:
            continue
    if not ids:
        return {}
    found = visible_to(Endpoint.objects.all(), user, guest_readable=False).filter(pk__in=ids)
    return {str(e.pk): e for e in found.only("id", "label", "model_prices")}


def _price(endpoint: Endpoint | None, model: str) -> dict | None:
    prices = (endpoint.model_prices or {}) if endpoint else {}
    price = prices.get(model)
    return price if isinstance(price, dict) else None


def model_performance(*, user: Viewer, since: datetime | None = None, until: datetime | None = None,
                      source: Source = "all") -> list[ModelStats]:
    """Per (model, endpoint) in [since, until): the user's own sweep calls and/or gateway requests, busiest first."""
    if source not in SOURCES:
        raise InvalidInput(errors={"source": [f"Unknown source; use one of {', '.join(SOURCES)}."]})
    when = _window_filter(since, until)
    sweeps = _sweep_groups(user, when) if source in ("all", "sweeps") else []
    gateway = _gateway_groups(user, when) if source in ("all", "gateway") else []
    keys = {_endpoint_key(g["endpoint_ref"]) for g in sweeps} | {_endpoint_key(g["endpoint_id"]) for g in gateway}
    endpoints = _endpoints(user, {k for k in keys if k})
    stats: dict[tuple[str, str | None], ModelStats] = {}

    def entry(model: str, key: str | None) -> ModelStats:
        if (model, key) not in stats:
            endpoint = endpoints.get(key) if key else None
            stats[(model, key)] = ModelStats(model=model, endpoint_id=key,
                                             endpoint_label=endpoint.label if endpoint else UNKNOWN_ENDPOINT,
                                             priced=_price(endpoint, model) is not None)
        return stats[(model, key)]

    for g in sweeps:
        row = entry(g["model_used"], _endpoint_key(g["endpoint_ref"]))
        price = _price(endpoints.get(row.endpoint_id or ""), row.model) or {}
        # Prices are per million tokens and linear, so the cost of a group is its token sums at the price.
        cost = ((g["tokens_in"] or 0) * float(price.get("input", 0))
                + (g["tokens_out"] or 0) * float(price.get("output", 0))) / 1_000_000
        row.add(calls=g["calls"], errors=g["errors"], timed=g["timed"], latency_total=g["latency_total"],
                latency_min=g["latency_min"], latency_max=g["latency_max"], tokens_in=g["tokens_in"],
                tokens_out=g["tokens_out"], cost=cost)
        row.sweep_calls += g["calls"]
        row.cache_hits += g["cache_hits"]
    for g in gateway:
        row = entry(g["model"], _endpoint_key(g["endpoint_id"]))
        row.add(calls=g["calls"], errors=g["errors"], timed=g["timed"], latency_total=g["latency_total"],
                latency_min=g["latency_min"], latency_max=g["latency_max"], tokens_in=g["tokens_in"],
                tokens_out=g["tokens_out"], cost=float(g["cost"] or 0))
        row.gateway_calls += g["calls"]
        row.priced = row.priced or bool(g["cost"])  # the gateway priced it when it recorded a cost
    return sorted(stats.values(), key=lambda s: (-s.calls, -s.cache_hits, s.model, s.endpoint_label))


def model_performance_kpis(*, rows: Sequence[ModelStats]) -> Kpis:
    """Average latency, the fastest and the cheapest model, and the call totals over `rows`."""
    timed = [row for row in rows if row.timed_calls]
    priced = [row for row in rows if row.cost_per_call_usd is not None]
    samples = sum(row.timed_calls for row in timed)
    return Kpis(
        total_calls=sum(row.calls for row in rows), cache_hits=sum(row.cache_hits for row in rows),
        errors=sum(row.errors for row in rows),
        avg_latency_ms=round(sum(row.latency_total_ms for row in timed) / samples, 1) if samples else None,
        fastest=min(timed, key=lambda row: (row.avg_latency_ms, -row.timed_calls), default=None),
        cheapest=min(priced, key=lambda row: (row.cost_per_call_usd, -row.calls), default=None),
        models=len(rows), unpriced=sum(1 for row in rows if row.calls and not row.priced),
    )

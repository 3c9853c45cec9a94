"""Model performance across sweeps and gateway traffic (the REST API's /analytics/models)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from apps.analytics.selectors import model_performance, model_performance_kpis
from apps.analytics.windows import window_parse
from apps.mcp.registry import Args, Call, ToolSpec


class ModelStatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    model: str
    endpoint_id: str | None
    endpoint_label: str
    calls: int = Field(description="Calls to the model; cache hits are counted apart.")
    sweep_calls: int
    gateway_calls: int
    cache_hits: int
    errors: int
    error_rate: float | None = Field(description="Percent of calls that failed (0-100).")
    avg_latency_ms: float | None = Field(description="Over successful calls.")
    min_latency_ms: int | None
    max_latency_ms: int | None
    tokens_in: int
    tokens_out: int
    total_cost_usd: float
    cost_per_call_usd: float | None = Field(description="Null when the model has no price.")
    priced: bool


class KpisOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    total_calls: int
    cache_hits: int
    errors: int
    error_rate: float | None
    avg_latency_ms: float | None
    fastest: ModelStatsOut | None
    cheapest: ModelStatsOut | None
    models: int
    unpriced: int


class WindowOut(BaseModel):
    name: str
    since: str | None
    until: str | None


class ModelPerformance(BaseModel):
    window: WindowOut
    source: str
    kpis: KpisOut
    models: list[ModelStatsOut] = Field(description="Busiest first.")


class ModelPerformanceArgs(Args):
    window: Literal["24h", "7d", "30d", "all"] | None = Field(
        None, description="Back from now (default 7d); leave out when giving since/until.")
    since: datetime | None = Field(None, description="Start (inclusive), ISO 8601.")
    until: datetime | None = Field(None, description="End (exclusive), ISO 8601.")
    source: Literal["all", "sweeps", "gateway"] = Field("all", description="Sweep calls, gateway requests, or both.")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def get_model_performance(call: Call, args: ModelPerformanceArgs) -> ModelPerformance:
    window = window_parse(window=args.window, since=args.since, until=args.until)
    rows = model_performance(user=call.user, since=window.since, until=window.until, source=args.source)
    return ModelPerformance(
        window=WindowOut(name=window.name, since=_iso(window.since), until=_iso(window.until)), source=args.source,
        kpis=KpisOut.model_validate(model_performance_kpis(rows=rows)),
        models=[ModelStatsOut.model_validate(row) for row in rows])


TOOLS = [
    ToolSpec("model_performance", "Per model and endpoint over a time window: calls, average/min/max latency, "
             "cost per call and error rate, across offline sweeps and gateway traffic; with the fastest and the "
             "cheapest model.", ModelPerformanceArgs, ModelPerformance, get_model_performance, read_only=True,
             idempotent=True),
]

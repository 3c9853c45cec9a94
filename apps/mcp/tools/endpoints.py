"""LLM endpoints: add or change one, and list the models it serves (the REST API's /endpoints)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from apps.core.errors import InvalidInput
from apps.endpoints import selectors, services
from apps.endpoints.probe import endpoint_probe
from apps.mcp.registry import Args, Call, ToolSpec


class EndpointOut(BaseModel):
    id: str
    label: str
    kind: str
    base_url: str
    has_api_key: bool
    max_concurrency: int
    model_prices: dict[str, Any]
    is_active: bool
    created: bool
    api_key_cleared: bool = False


class ModelList(BaseModel):
    ok: bool
    models: list[str]
    latency_ms: int
    error: str | None
    detail: str | None


class ConfigureEndpointArgs(Args):
    endpoint_id: uuid.UUID | None = Field(None, description="Change this endpoint; leave out to add a new one.")
    label: str | None = Field(None, max_length=100, description="Required for a new endpoint.")
    base_url: str | None = Field(None, max_length=500, description="e.g. http://localhost:11434/v1 (required for "
                                 "a new endpoint). Changing scheme, host or port clears the stored key.")
    kind: str | None = Field(None, description="openai (any OpenAI-compatible server) or anthropic.")
    api_key: str | None = Field(None, max_length=1000, description='Stored encrypted, never shown again; "" clears it.')
    max_concurrency: int | None = Field(None, ge=1)
    connect_timeout_s: float | None = Field(None, gt=0)
    read_timeout_s: float | None = Field(None, gt=0)
    model_prices: dict[str, dict[str, float]] | None = Field(
        None, description='USD per 1M tokens by model: {"gpt-4o": {"input": 2.5, "output": 10}}.')
    is_active: bool | None = None


class EndpointIdArgs(Args):
    endpoint_id: uuid.UUID


def endpoint_out(endpoint, *, created: bool, cleared: bool = False) -> EndpointOut:
    return EndpointOut(id=str(endpoint.pk), label=endpoint.label, kind=endpoint.kind, base_url=endpoint.base_url,
                       has_api_key=endpoint.has_api_key, max_concurrency=endpoint.max_concurrency,
                       model_prices=endpoint.model_prices or {}, is_active=endpoint.is_active, created=created,
                       api_key_cleared=cleared)


def configure_endpoint(call: Call, args: ConfigureEndpointArgs) -> EndpointOut:
    fields = {name: value for name, value in args.__dict__.items() if value is not None and name != "endpoint_id"}
    if args.endpoint_id is None:
        missing = {name: ["Required for a new endpoint."] for name in ("label", "base_url") if name not in fields}
        if missing:
            raise InvalidInput(errors=missing)
        return endpoint_out(services.endpoint_create(owner=call.user, **fields), created=True)
    endpoint = selectors.endpoint_get(user=call.user, endpoint_id=args.endpoint_id)
    endpoint, cleared = services.endpoint_update(endpoint=endpoint, **fields)
    return endpoint_out(endpoint, created=False, cleared=cleared)


def list_models(call: Call, args: EndpointIdArgs) -> ModelList:
    result = endpoint_probe(endpoint=selectors.endpoint_get(user=call.user, endpoint_id=args.endpoint_id))
    return ModelList(ok=result.ok, models=result.models, latency_ms=result.latency_ms, error=result.error,
                     detail=result.detail)


TOOLS = [
    ToolSpec("configure_endpoint", "Add an LLM endpoint (OpenAI-compatible or Anthropic) or change one. The API "
             "key is stored encrypted and never returned.", ConfigureEndpointArgs, EndpointOut, configure_endpoint,
             destructive=True),  # changing an endpoint overwrites its URL, key or prices
    ToolSpec("list_models", "Ask an endpoint which models it serves (also tests that it answers).",
             EndpointIdArgs, ModelList, list_models, read_only=True, idempotent=True, open_world=True),
]

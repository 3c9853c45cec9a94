"""LLM provider adapters: endpoint kind → adapter class, imported on first use."""

from __future__ import annotations

from functools import cache
from importlib import import_module

import httpx

from apps.engine.providers.base import Provider
from apps.engine.types import EndpointSpec

PROVIDERS = {
    "openai": "apps.engine.providers.openai.OpenAIProvider",
    "anthropic": "apps.engine.providers.anthropic.AnthropicProvider",
}


@cache
def get_provider(kind: str) -> type[Provider]:
    try:
        path = PROVIDERS[kind]
    except KeyError:
        raise ValueError(f"unknown provider kind '{kind}' (known: {', '.join(sorted(PROVIDERS))})") from None
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def provider_for(endpoint: EndpointSpec, client: httpx.AsyncClient) -> Provider:
    """The adapter for `endpoint.kind`, talking through `client` (an egress client)."""
    return get_provider(endpoint.kind)(endpoint, client)

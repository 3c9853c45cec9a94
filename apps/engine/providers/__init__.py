"""LLM provider adapters: endpoint kind → adapter class, imported on first use."""

from __future__ import annotations

import httpx

from apps.engine.providers.base import Provider
from apps.engine.registry import Registry
from apps.engine.types import EndpointSpec

PROVIDERS: Registry[Provider] = Registry("provider kind", {
    "openai": ("apps.engine.providers.openai.OpenAIProvider",
               "OpenAI-compatible (OpenAI, vLLM, Ollama, OpenWebUI, llama.cpp)"),
    "anthropic": ("apps.engine.providers.anthropic.AnthropicProvider", "Anthropic (native Messages API)"),
}, sort_known=True)


def get_provider(kind: str) -> type[Provider]:
    return PROVIDERS.get(kind)


def provider_for(endpoint: EndpointSpec, client: httpx.AsyncClient) -> Provider:
    """The adapter for `endpoint.kind`, talking through `client` (an egress client)."""
    return get_provider(endpoint.kind)(endpoint, client)

"""Anthropic's native Messages API (base URL like https://api.anthropic.com).

System messages move to the top-level `system`; `stop` becomes `stop_sequences`; parameters
the API rejects (seed, response_format, penalties) are left out; stop reasons are reported
in OpenAI's words (`stop`, `length`) so results compare across providers.
"""

from __future__ import annotations

import json
import time
from typing import Any

from apps.engine.providers.base import Provider, excerpt
from apps.engine.types import ChatRequest, Completion, ProviderError

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
UNSUPPORTED_PARAMS = frozenset({"seed", "response_format", "presence_penalty", "frequency_penalty"})
FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


class AnthropicProvider(Provider):
    def headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self.endpoint.api_key:
            headers["x-api-key"] = self.endpoint.api_key
        return headers

    def url(self, path: str) -> str:
        base = self.endpoint.base_url.rstrip("/").removesuffix("/v1")
        return f"{base}/v1/{path}"

    async def complete(self, request: ChatRequest) -> Completion:
        started = time.monotonic()
        reply = await self.request_json("POST", self.url("messages"), json_body=message_body(request))
        try:
            blocks = reply["content"]
            text = "".join(b["text"] for b in blocks if b.get("type") == "text")
            usage = reply.get("usage") or {}
            stop_reason = reply.get("stop_reason") or ""
        except (KeyError, TypeError, AttributeError):
            raise self.error(f"unexpected Messages API response: {excerpt(json.dumps(reply))}") from None
        return Completion(
            text=text,
            tokens_in=int(usage.get("input_tokens") or 0),
            tokens_out=int(usage.get("output_tokens") or 0),
            latency_ms=round((time.monotonic() - started) * 1000),
            finish_reason=FINISH_REASONS.get(stop_reason, stop_reason),
        )

    async def list_models(self) -> list[str]:
        body = await self.request_json("GET", self.url("models?limit=1000"))
        try:
            return [item["id"] for item in body["data"]]
        except (KeyError, TypeError):
            raise self.error(f"unexpected model list: {excerpt(json.dumps(body))}") from None

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        raise ProviderError("embeddings not supported by Anthropic endpoints")


def message_body(request: ChatRequest) -> dict[str, Any]:
    system = [text_of(m) for m in request.messages if m.get("role") == "system"]
    params = {k: v for k, v in request.params.items() if k not in UNSUPPORTED_PARAMS}
    stop = params.pop("stop", None)
    if stop:
        params["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    body: dict[str, Any] = {
        "max_tokens": DEFAULT_MAX_TOKENS,
        **params,
        "model": request.model,
        "messages": [m for m in request.messages if m.get("role") != "system"],
    }
    if system:
        body["system"] = "\n\n".join(system)
    return body


def text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""

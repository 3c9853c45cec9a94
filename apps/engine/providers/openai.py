"""OpenAI-compatible servers: OpenAI, vLLM, Ollama, llama.cpp, OpenWebUI (base URL ends in /v1).

A cut-off reply is always a retryable error, never a short answer: a whole JSON body must match
its declared length ("reply ended early"), and with `stream = True` a stream that ends without
`[DONE]` or a finish reason is "stream ended early".
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from apps.engine import egress
from apps.engine.providers.base import Provider, excerpt
from apps.engine.types import ChatRequest, Completion, ProviderError


class OpenAIProvider(Provider):
    # Streaming costs ~2× the client CPU per call; one JSON body is checked against its declared
    # length instead (a cut-off body is a retryable transport error, never a short answer).
    stream = False

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.endpoint.api_key}"} if self.endpoint.api_key else {}

    def url(self, path: str) -> str:
        return f"{self.endpoint.base_url.rstrip('/')}/{path}"

    async def complete(self, request: ChatRequest) -> Completion:
        body = {**request.params, "model": request.model, "messages": request.messages}
        if self.stream:
            body.update(stream=True, stream_options={"include_usage": True})
        started = time.monotonic()
        async with self.open("POST", self.url("chat/completions"), json_body=body) as response:
            if "text/event-stream" in response.headers.get("content-type", ""):
                reply = await self.read_stream(response)
            else:
                reply = await self.read_whole(response)
        usage = reply.usage or {}
        return Completion(
            text="".join(reply.parts),
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            latency_ms=round((time.monotonic() - started) * 1000),
            finish_reason=reply.finish_reason or "",
        )

    async def read_stream(self, response: httpx.Response) -> StreamState:
        state, host = StreamState(), response.url.host
        try:
            async for line in response.aiter_lines():
                state.size += len(line) + 1
                if state.size > egress.LLM_MAX_BODY_BYTES:
                    raise egress.BodyTooLarge(f"stream from {host} exceeded {egress.LLM_MAX_BODY_BYTES} bytes")
                if not line.startswith("data:"):
                    continue
                data = line[len("data:"):].strip()
                if data == "[DONE]":
                    state.done = True
                    break
                state.add(self.parse(data, host, event=True), chat=False)
        except (httpx.TimeoutException, egress.EgressError):
            raise
        except httpx.TransportError as exc:
            raise self.truncated(host, state, f": {exc}") from None
        if not (state.done or state.finish_reason):
            raise self.truncated(host, state, "")
        return state

    async def read_whole(self, response: httpx.Response) -> StreamState:
        """A server that ignored `stream` and answered in one piece."""
        state = StreamState()
        try:
            raw = await egress.read_capped(response, egress.LLM_MAX_BODY_BYTES)
        except (httpx.TimeoutException, egress.EgressError):
            raise
        except httpx.TransportError as exc:
            raise self.error(f"reply ended early: {response.url.host} closed the connection before the whole "
                             f"body arrived: {exc}", retryable=True) from None
        state.add(self.parse(raw, response.url.host), chat=True)
        state.done = True
        return state

    def truncated(self, host: str, state: StreamState, cause: str) -> ProviderError:
        return self.error(f"stream ended early: {host} closed it after {state.events} events "
                          f"without [DONE] or a finish reason{cause}", retryable=True)

    def parse(self, data: bytes | str, host: str, *, event: bool = False) -> dict[str, Any]:
        try:
            parsed = json.loads(data)
        except ValueError:
            what = "a malformed stream event" if event else "a response that is not valid JSON"
            raise self.error(f"{host} sent {what}: {excerpt(data)}") from None
        if not isinstance(parsed, dict):
            raise self.error(f"{host} sent an unexpected response: {excerpt(data)}")
        if parsed.get("error"):
            raise self.error(f"{host} reported an error: {excerpt(json.dumps(parsed['error']))}",
                             retryable=True)
        return parsed

    async def list_models(self) -> list[str]:
        body = await self.request_json("GET", self.url("models"))
        try:
            return [item["id"] for item in body["data"]]
        except (KeyError, TypeError):
            raise self.error(f"unexpected model list: {excerpt(json.dumps(body))}") from None

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        body = {"model": model, "input": texts, "encoding_format": "float"}
        reply = await self.request_json("POST", self.url("embeddings"), json_body=body)
        try:
            items = sorted(reply["data"], key=lambda item: item["index"])
            vectors = [[float(v) for v in item["embedding"]] for item in items]
        except (KeyError, TypeError, ValueError):
            raise self.error(f"unexpected embeddings response: {excerpt(json.dumps(reply))}") from None
        if len(vectors) != len(texts):
            raise self.error(f"asked for {len(texts)} embeddings, got {len(vectors)}")
        return vectors


class StreamState:
    """What a chat reply has delivered so far (streamed or in one piece)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.done = False
        self.events = 0
        self.size = 0

    def add(self, event: dict[str, Any], *, chat: bool) -> None:
        self.events += 1
        # The last usage wins: some servers repeat it in the finish chunk and a usage-only chunk.
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        for choice in event.get("choices") or []:
            message = (choice.get("message") if chat else choice.get("delta")) or {}
            if isinstance(message.get("content"), str):
                self.parts.append(message["content"])
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

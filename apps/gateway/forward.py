"""Forwarding one chat request upstream through the egress client, and passing the answer on as it comes.

OpenAI-compatible endpoints are proxied: the reply's bytes go to the caller unchanged (a stream event by
event, as it arrives), read on the way for content, usage and the end of the stream. Other kinds go
through their engine adapter and are answered in OpenAI's shape (a stream then has one content chunk).

Upstream failures become OpenAI-style errors (docs/deployments.md, "Gateway"): an upstream 429 is passed
on as 429 (with Retry-After), a timeout is 504, every other failure (HTTP 4xx/5xx, refused connection,
egress denial, a malformed reply) is 502 with `upstream_status` in the body. A stream that fails after
it started ends with an `error` event.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from apps.engine import egress
from apps.engine.providers import provider_for
from apps.engine.types import ChatRequest, EndpointSpec, ProviderError
from apps.gateway import replies
from apps.gateway.sse import StreamWatch, token_count


@dataclass
class Outcome:
    """How the exchange went, for its GatewayRequest row."""

    status_code: int = 200
    error: str = ""
    has_content: bool = False
    tokens_in: int = 0
    tokens_out: int = 0


def _failure(exc: ProviderError) -> tuple[int, str, list[tuple[bytes, bytes]]]:
    """(status for the caller, error code, extra headers) for an upstream failure."""
    message = str(exc)
    if exc.status == 429:
        after = [(b"retry-after", str(round(exc.retry_after_s)).encode())] if exc.retry_after_s else []
        return 429, "upstream_rate_limited", after
    if exc.status is None and ("timed out" in message or "read timeout" in message):
        return 504, "upstream_timeout", []
    return 502, f"upstream_{exc.status}" if exc.status else "upstream_unreachable", []


async def _send_failure(send, outcome: Outcome, exc: ProviderError, headers, *, started: bool) -> None:
    status, code, extra = _failure(exc)
    outcome.status_code, outcome.error = status, f"upstream: {exc}"[:500]
    message = f"The deployment's endpoint failed: {exc}"
    if started:  # the 200 is already on its way: say it in the stream
        error = {"message": message, "type": "upstream_error", "code": code, "upstream_status": exc.status}
        await replies.send_chunk(send, replies.sse({"error": error}), more=False)
    else:
        await replies.send_error(send, status, message, type_="upstream_error", code=code,
                                 headers=[*headers, *extra], upstream_status=exc.status)


def _reply_content(body: Any) -> tuple[bool, int, int]:
    """(has content, tokens in, tokens out) of a chat.completion body."""
    if not isinstance(body, dict):
        raise ValueError("not an object")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    has_content = False
    for choice in body.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and (message.get("tool_calls") or str(message.get("content") or "").strip()):
            has_content = True
    return has_content, token_count(usage.get("prompt_tokens")), token_count(usage.get("completion_tokens"))


async def forward(send, *, endpoint: EndpointSpec, client: httpx.AsyncClient, body: dict, stream: bool,
                  keep_usage_chunk: bool, headers: list[tuple[bytes, bytes]], outcome: Outcome | None = None,
                  ) -> Outcome:
    """Send `body` upstream and the reply to the caller; never raises for an upstream failure.

    `outcome` is filled in as the exchange goes (tokens as soon as upstream reports them), so what was
    counted survives when sending to the caller fails midway (a caller that went away).
    """
    provider = provider_for(endpoint, client)
    outcome = Outcome() if outcome is None else outcome
    if endpoint.kind != "openai":
        return await _adapted(send, provider, body, stream, keep_usage_chunk, headers, outcome)
    if stream:
        body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    started = False
    try:
        async with provider.open("POST", provider.url("chat/completions"), json_body=body) as response:
            if stream and "text/event-stream" in response.headers.get("content-type", ""):
                started = True
                await replies.start_stream(send, headers)
                await _pass_stream(send, response, outcome, keep_usage_chunk)
            else:
                raw = await egress.read_capped(response, egress.LLM_MAX_BODY_BYTES)
                try:
                    outcome.has_content, outcome.tokens_in, outcome.tokens_out = _reply_content(json.loads(raw))
                except (ValueError, TypeError, AttributeError):
                    raise provider.error(f"{response.url.host} sent a reply that is not a chat completion: "
                                         f"{raw[:200]!r}") from None
                if stream:  # a server that ignored `stream`: one chunk with the whole content
                    started = True
                    await replies.start_stream(send, headers)
                    await _send_as_stream(send, json.loads(raw), keep_usage_chunk)
                else:
                    await replies.send_body(send, 200, raw, headers)
    except ProviderError as exc:
        await _send_failure(send, outcome, exc, headers, started=started)
    return outcome


def _note(outcome: Outcome, watch: StreamWatch) -> None:
    """What the stream said so far, kept as it arrives (a caller that goes away midway keeps its tokens)."""
    outcome.has_content, outcome.tokens_in, outcome.tokens_out = watch.has_content, watch.tokens_in, watch.tokens_out


async def _pass_stream(send, response: httpx.Response, outcome: Outcome, keep_usage_chunk: bool) -> None:
    watch = StreamWatch(keep_usage_chunk=keep_usage_chunk)
    async for data in response.aiter_raw():
        out = watch.feed(data)
        _note(outcome, watch)
        if out:
            await replies.send_chunk(send, out)
    tail = watch.close()
    _note(outcome, watch)
    if watch.error or not watch.complete:
        outcome.status_code = 502
        outcome.error = watch.error or "upstream stream ended early (no [DONE] and no finish reason)"
        message = {"error": {"message": f"The deployment's endpoint failed: {outcome.error}",
                             "type": "upstream_error", "code": "upstream_stream", "upstream_status": 200}}
        tail += b"" if watch.error else replies.sse(message)
    await replies.send_chunk(send, tail, more=False)


def _chunks(*, model: str, content: str, finish: str, usage: dict, keep_usage_chunk: bool) -> list[dict]:
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model}

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    items = [chunk({"role": "assistant", "content": content}), chunk({}, finish or "stop")]
    if keep_usage_chunk:
        items.append({**base, "choices": [], "usage": usage})
    return items


async def _send_as_stream(send, reply: dict, keep_usage_chunk: bool) -> None:
    choice = (reply.get("choices") or [{}])[0]
    content = str((choice.get("message") or {}).get("content") or "")
    items = _chunks(model=str(reply.get("model", "")), content=content, finish=choice.get("finish_reason") or "stop",
                    usage=reply.get("usage") or {}, keep_usage_chunk=keep_usage_chunk)
    await replies.send_chunk(send, b"".join(replies.sse(item) for item in items) + replies.sse("[DONE]"), more=False)


async def _adapted(send, provider, body: dict, stream: bool, keep_usage_chunk: bool, headers, outcome: Outcome,
                   ) -> Outcome:
    params = {key: value for key, value in body.items() if key not in ("model", "messages")}
    try:
        completion = await provider.complete(ChatRequest(model=body["model"], messages=body["messages"],
                                                         params=params))
    except ProviderError as exc:
        await _send_failure(send, outcome, exc, headers, started=False)
        return outcome
    outcome.has_content = bool(completion.text.strip())
    outcome.tokens_in, outcome.tokens_out = completion.tokens_in, completion.tokens_out
    usage = {"prompt_tokens": completion.tokens_in, "completion_tokens": completion.tokens_out,
             "total_tokens": completion.tokens_in + completion.tokens_out}
    reply = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
             "model": body["model"], "usage": usage,
             "choices": [{"index": 0, "message": {"role": "assistant", "content": completion.text},
                          "finish_reason": completion.finish_reason or "stop"}]}
    if stream:
        await replies.start_stream(send, headers)
        await _send_as_stream(send, reply, keep_usage_chunk)
    else:
        await replies.send_body(send, 200, json.dumps(reply).encode(), headers)
    return outcome

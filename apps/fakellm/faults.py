"""Fault injection for the fake LLM server (see `apps.fakellm.server` docs).

A fault is selected by model name (`fault-429`, `flaky-500-2`, ...) or by the
`X-Fake-Fault` header, which accepts the same names with or without the
`fault-` prefix (`X-Fake-Fault: 429`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web

FAULT_MODES = ("429", "500", "hang", "malformed", "truncate", "400", "401")
FAULT_MODELS = [f"fault-{mode}" for mode in FAULT_MODES]
FLAKY_EXAMPLE_MODELS = ["flaky-429-2", "flaky-500-2"]
HANG_SECONDS = 3600.0

_FLAKY = re.compile(r"^flaky-(429|500)-(\d+)$")

_ERRORS: dict[str, tuple[int, str, str | None, str]] = {
    "429": (429, "requests", "rate_limit_exceeded", "Rate limit reached (fake)."),
    "500": (500, "server_error", None, "The server had an error (fake)."),
    "400": (400, "invalid_request_error", None, "Invalid request (fake)."),
    "401": (401, "invalid_request_error", "invalid_api_key", "Incorrect API key (fake)."),
}


@dataclass(frozen=True)
class Fault:
    """A parsed fault: `mode` is one of FAULT_MODES; `flaky_times` > 0 for flaky."""

    mode: str
    flaky_times: int = 0
    name: str = ""


class UnknownFault(ValueError):
    pass


def parse_fault(name: str) -> Fault | None:
    """Fault for a model name or header value, None if it names no fault."""
    if name.startswith("fault-"):
        mode = name[len("fault-") :]
        if mode not in FAULT_MODES:
            raise UnknownFault(name)
        return Fault(mode, 0, name)
    flaky = _FLAKY.match(name)
    if flaky:
        return Fault(flaky.group(1), int(flaky.group(2)), name)
    if name.startswith("flaky-"):
        raise UnknownFault(name)
    return None


def select_fault(model: Any, header: str | None) -> Fault | None:
    """Header override wins over the model name."""
    if header:
        value = header.strip()
        is_named = value.startswith(("fault-", "flaky-"))
        return parse_fault(value if is_named else f"fault-{value}")
    return parse_fault(model) if isinstance(model, str) else None


class FlakyCounter:
    """Counts attempts per (fault, request body) so flaky faults can recover."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def should_fail(self, fault: Fault, raw_body: bytes) -> bool:
        # A client retry resends identical bytes, so the raw body identifies the request.
        key = (fault.name, hashlib.sha256(raw_body).hexdigest())
        with self._lock:
            attempts = self._seen.get(key, 0) + 1
            self._seen[key] = attempts
        return attempts <= fault.flaky_times

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


def error_response(
    status: int, message: str, *, type_: str = "invalid_request_error",
    code: str | None = None, param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    error = {"message": message, "type": type_, "param": param, "code": code}
    return web.json_response({"error": error}, status=status, headers=headers)


def status_fault(mode: str, retry_after: str) -> web.Response:
    status, type_, code, message = _ERRORS[mode]
    headers = {"Retry-After": retry_after} if mode == "429" else None
    return error_response(status, message, type_=type_, code=code, headers=headers)


async def hang() -> web.Response:
    # Longer than any test timeout; cancelled when the client goes away.
    await asyncio.sleep(HANG_SECONDS)
    return error_response(504, "Hung request finally gave up (fake).", type_="server_error")


async def malformed(request: web.Request, stream: bool) -> web.StreamResponse:
    if not stream:
        broken = '{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{'
        return web.Response(text=broken, content_type="application/json")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(b'data: {"id": "chatcmpl-fake", "choices": [{\n\ndata: [DONE]\n\n')
    return resp


async def truncate(
    request: web.Request, stream: bool, payload: dict[str, Any] | list[dict[str, Any]]
) -> web.StreamResponse:
    """Send part of a valid reply, then drop the connection mid-body."""
    if stream and isinstance(payload, list):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for item in payload[:2]:
            await resp.write(f"data: {json.dumps(item)}\n\n".encode())
    else:
        body = json.dumps(payload).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(body)
        await resp.prepare(request)
        await resp.write(body[: len(body) // 2])
    # aiohttp swallows the ConnectionError its write_eof then hits on the closed socket.
    if request.transport is not None:
        request.transport.close()
    return resp

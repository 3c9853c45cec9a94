"""Raw ASGI responses: OpenAI-style error bodies, JSON, and the start of an event stream."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

JSON = b"application/json"
EVENT_STREAM = b"text/event-stream"


def header_value(text: str) -> bytes:
    """A header-safe form of `text` (variant names may be any Unicode): percent-encoded past ASCII."""
    return (text if text.isascii() and text.isprintable() else quote(text, safe=" ")).encode("latin-1")


def error_body(message: str, *, type_: str, code: str | None = None, param: str | None = None,
               **extra: Any) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": param, "code": code, **extra}}).encode()


async def send_body(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] = (),
                    content_type: bytes = JSON) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


async def send_error(send, status: int, message: str, *, type_: str, code: str | None = None,
                     param: str | None = None, headers: list[tuple[bytes, bytes]] = (), **extra: Any) -> None:
    await send_body(send, status, error_body(message, type_=type_, code=code, param=param, **extra), headers)


async def start_stream(send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", EVENT_STREAM), (b"cache-control", b"no-cache"), *headers]})


async def send_chunk(send, data: bytes, *, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})


def sse(item: dict | str) -> bytes:
    data = item if isinstance(item, str) else json.dumps(item)
    return f"data: {data}\n\n".encode()

"""Reading an upstream SSE chat stream while passing it on: content seen, usage, end, the usage chunk to strip."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_EVENT_END = re.compile(rb"\r?\n\r?\n")
MAX_TOKENS = 2**31 - 1  # what a GatewayRequest's token columns hold


def token_count(value: Any) -> int:
    """A usage figure from upstream as a token count in 0..MAX_TOKENS; anything that is not a number is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return min(max(int(value), 0), MAX_TOKENS)


class StreamWatch:
    """Splits upstream bytes into whole events and notes what the metrics need.

    `feed()` returns the bytes to pass on now (whole events only, so a usage chunk can be dropped when
    the caller did not ask for it: the gateway always asks upstream for usage, to count tokens).
    """

    def __init__(self, *, keep_usage_chunk: bool) -> None:
        self.keep_usage_chunk = keep_usage_chunk
        self.has_content = False
        self.tokens_in = 0
        self.tokens_out = 0
        self.done = False
        self.finished = False
        self.error = ""
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        self._pending += data
        parts = _EVENT_END.split(self._pending)
        self._pending = parts.pop()
        return b"".join(self._event(part) for part in parts if part)

    def close(self) -> bytes:
        """Whatever came after the last blank line (a server that ends without one)."""
        rest, self._pending = self._pending, b""
        return self._event(rest) if rest.strip() else b""

    @property
    def complete(self) -> bool:
        return self.done or self.finished

    def _event(self, raw: bytes) -> bytes:
        out = raw + b"\n\n"
        # One event may spread its data over several `data:` lines: joined by newlines, they are one payload.
        lines = [line[5:] for line in raw.splitlines() if line.startswith(b"data:")]
        if not lines:
            return out
        data = b"\n".join(line[1:] if line.startswith(b" ") else line for line in lines).strip()
        if data == b"[DONE]":
            self.done = True
            return out
        try:
            event = json.loads(data)
        except (ValueError, RecursionError):
            self.error = self.error or "upstream sent a malformed stream event"
            return out
        if isinstance(event, dict) and not self._note(event):
            out = b""
        return out

    def _note(self, event: dict) -> bool:
        """Record one event; False if it is the usage-only chunk the caller did not ask for."""
        if event.get("error"):
            self.error = self.error or f"upstream reported an error: {json.dumps(event['error'])[:400]}"
        choices = event.get("choices")
        usage = event.get("usage")
        if isinstance(usage, dict):
            self.tokens_in = token_count(usage.get("prompt_tokens"))
            self.tokens_out = token_count(usage.get("completion_tokens"))
        for choice in choices or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and (delta.get("tool_calls") or str(delta.get("content") or "").strip()):
                self.has_content = True
            if choice.get("finish_reason"):
                self.finished = True
        return self.keep_usage_chunk or not (choices == [] and isinstance(usage, dict))

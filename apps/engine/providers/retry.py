"""The one retry loop for LLM calls (SDKs and HTTP clients never retry on their own)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from apps.engine.types import ProviderError

T = TypeVar("T")


class RetriesExhausted(ProviderError):
    """The last error of a call that was tried more than once; `attempts` says how often."""

    def __init__(self, cause: ProviderError, attempts: int) -> None:
        super().__init__(
            f"failed after {attempts} attempts; last error: {cause}",
            status=cause.status, retryable=cause.retryable, retry_after_s=cause.retry_after_s,
        )
        self.attempts = attempts
        self.cause = cause


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, *, base_delay_s: float, max_delay_s: float, rand: Callable[[], float]) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
    return rand() * min(max_delay_s, base_delay_s * 2 ** (attempt - 1))


async def with_retries(
    call: Callable[[], Awaitable[T]], *, max_attempts: int = 5, base_delay_s: float = 0.5,
    max_delay_s: float = 30, retry_after_cap_s: float = 60,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, rand: Callable[[], float] = random.random,
) -> T:
    """Await `call()` until it succeeds, a non-retryable ProviderError occurs or attempts run out."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except ProviderError as exc:
            if not exc.retryable or attempt >= max_attempts:
                if attempt == 1:
                    raise
                raise RetriesExhausted(exc, attempt) from exc
            if exc.retry_after_s is not None:
                delay = min(exc.retry_after_s, retry_after_cap_s)
            else:
                delay = backoff_delay(attempt, base_delay_s=base_delay_s, max_delay_s=max_delay_s, rand=rand)
        await sleep(delay)

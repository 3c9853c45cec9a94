"""The retry loop: which errors are retried, how long it waits, what the final error says."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from apps.engine.providers.retry import RetriesExhausted, parse_retry_after, with_retries
from apps.engine.types import ProviderError


class Script:
    """A call that raises the scripted errors in turn, then returns "ok"."""

    def __init__(self, *errors: ProviderError | Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def retry(call: Script, sleeps: Sleeps, **options: object) -> str:
    options.setdefault("rand", lambda: 1.0)
    return asyncio.run(with_retries(call, sleep=sleeps, **options))


def server_error(status: int = 500, **kwargs: object) -> ProviderError:
    return ProviderError(f"HTTP {status}", status=status, retryable=True, **kwargs)


def test_a_call_that_succeeds_at_once_does_not_sleep():
    sleeps = Sleeps()
    assert retry(Script(), sleeps) == "ok"
    assert sleeps == []


def test_retryable_errors_back_off_exponentially_until_success():
    call, sleeps = Script(server_error(), server_error(502), server_error(503)), Sleeps()
    assert retry(call, sleeps, base_delay_s=0.5) == "ok"
    assert call.calls == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_uses_full_jitter_and_is_capped():
    sleeps = Sleeps()
    call = Script(*[server_error() for _ in range(5)])
    retry(call, sleeps, max_attempts=6, base_delay_s=10, max_delay_s=15, rand=lambda: 0.5)
    assert sleeps == [5.0, 7.5, 7.5, 7.5, 7.5]


def test_retry_after_is_honoured_instead_of_the_backoff():
    call, sleeps = Script(server_error(429, retry_after_s=7.0)), Sleeps()
    assert retry(call, sleeps) == "ok"
    assert sleeps == [7.0]


def test_retry_after_is_capped():
    call, sleeps = Script(server_error(429, retry_after_s=3600.0)), Sleeps()
    retry(call, sleeps, retry_after_cap_s=60)
    assert sleeps == [60]


def test_a_non_retryable_error_fails_at_once_unchanged():
    error = ProviderError("HTTP 400: bad request", status=400)
    call, sleeps = Script(error), Sleeps()
    with pytest.raises(ProviderError) as caught:
        retry(call, sleeps)
    assert caught.value is error
    assert (call.calls, sleeps) == (1, [])


def test_giving_up_says_how_many_attempts_were_made_and_the_last_cause():
    call, sleeps = Script(*[server_error(500) for _ in range(4)], server_error(503)), Sleeps()
    with pytest.raises(RetriesExhausted) as caught:
        retry(call, sleeps, max_attempts=5)
    assert str(caught.value) == "failed after 5 attempts; last error: HTTP 503"
    assert caught.value.attempts == 5
    assert caught.value.status == 503
    assert call.calls == 5
    assert len(sleeps) == 4


def test_a_non_retryable_error_after_retries_reports_the_attempts_too():
    call = Script(server_error(500), ProviderError("HTTP 401", status=401))
    with pytest.raises(RetriesExhausted, match="failed after 2 attempts; last error: HTTP 401") as caught:
        retry(call, Sleeps())
    assert caught.value.retryable is False


def test_errors_that_are_not_provider_errors_are_not_retried():
    call = Script(httpx.ConnectError("boom"))
    with pytest.raises(httpx.ConnectError):
        retry(call, Sleeps())
    assert call.calls == 1


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "2"}, 2.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, 30.0),
    ({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"}, 0.0),
    ({"retry-after": "-5"}, 0.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
])
def test_retry_after_reads_seconds_milliseconds_and_http_dates(headers, seconds):
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == seconds

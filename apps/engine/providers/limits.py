"""Per-endpoint concurrency: at most `endpoint.max_concurrency` calls in flight per endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from apps.engine.types import EndpointSpec


class EndpointLimiter:
    """One semaphore per endpoint id, for one event loop.

    Hold a slot around a single attempt, not around the retry loop, so that a call
    sleeping through a backoff does not keep other calls to the endpoint waiting.
    """

    def __init__(self) -> None:
        self._slots: dict[str, asyncio.Semaphore] = {}

    def semaphore(self, endpoint: EndpointSpec) -> asyncio.Semaphore:
        if endpoint.id not in self._slots:
            self._slots[endpoint.id] = asyncio.Semaphore(max(1, endpoint.max_concurrency))
        return self._slots[endpoint.id]

    @asynccontextmanager
    async def slot(self, endpoint: EndpointSpec) -> AsyncIterator[None]:
        async with self.semaphore(endpoint):
            yield

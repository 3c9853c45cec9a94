"""Shared plumbing for async jobs that call LLMs: one DB thread, pooled clients, limits, retries.

The event loop only does HTTP; every database operation runs on one dedicated thread (one
connection, serialized writes, which SQLite needs). Used by the sweep driver and re-scoring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection

from apps.core.ids import is_uuid
from apps.core.models import SystemSettings
from apps.core.types import Id
from apps.endpoints.models import Endpoint
from apps.endpoints.specs import endpoint_spec
from apps.engine import egress
from apps.engine.pipeline import CallSkipped
from apps.engine.providers import get_provider
from apps.engine.providers.base import Provider
from apps.engine.providers.retry import with_retries
from apps.engine.types import EndpointSpec, ProviderError

T = TypeVar("T")


class EndpointUnavailable(ProviderError):
    """A config names an endpoint this host did not load: deleted, or not the experiment owner's."""

    def __init__(self, endpoint_id: str) -> None:
        super().__init__(f"endpoint {endpoint_id} is not available (deleted, or not one of the experiment "
                         f"owner's endpoints)")
        self.endpoint_id = endpoint_id


class LoadedEndpoints(dict[str, EndpointSpec]):
    """The owner's endpoints by id; looking up any other id raises EndpointUnavailable, never KeyError."""

    def __missing__(self, endpoint_id: str) -> EndpointSpec:
        raise EndpointUnavailable(endpoint_id)


def _close_connection() -> None:
    connection.close()


class LLMHost:
    def __init__(self) -> None:
        self.db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-db")
        self.endpoints: LoadedEndpoints = LoadedEndpoints()
        self.providers: dict[str, Provider] = {}
        self.limits: dict[str, asyncio.Semaphore] = {}
        self.clients: dict[str, object] = {}
        self.allowlist = None
        self.cache_owner = ""  # the user whose cache entries this job's calls read and write (set per job)
        self.retry = dict(settings.LLM_RETRY)
        self.python_enabled = settings.SCORERS_PYTHON_ENABLED

    async def db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.db_pool, lambda: fn(**kwargs))

    def load_endpoints(self, ids: set[str], *, owner_id: Id) -> None:
        """Runs on the DB thread: decrypt the keys of `owner_id`'s endpoints among `ids`; read the allowlist.

        Only the experiment owner's endpoints are ever loaded, whatever a stored config names, so a
        config that names anyone else's endpoint fails with EndpointUnavailable instead of spending it.
        """
        ids = {str(i) for i in ids if is_uuid(i)}  # a hand-edited config may hold anything
        rows = Endpoint.objects.filter(pk__in=ids, owner_id=owner_id)
        self.endpoints = LoadedEndpoints({str(e.pk): endpoint_spec(e) for e in rows})
        text = SystemSettings.load().egress_allowlist
        self.allowlist = egress.Allowlist.parse(text) if text.strip() else None

    def open_clients(self) -> None:
        """One pooled client per endpoint, sized to its concurrency limit (inside the event loop)."""
        for spec in self.endpoints.values():
            self.clients[spec.id] = egress.async_client(
                policy=egress.Policy.LLM, allowlist=self.allowlist, connect_timeout_s=spec.connect_timeout_s,
                read_timeout_s=spec.read_timeout_s, max_connections=max(1, spec.max_concurrency),
                max_body_bytes=egress.LLM_MAX_BODY_BYTES,
            )
            self.providers[spec.id] = get_provider(spec.kind)(spec, self.clients[spec.id])
            self.limits[spec.id] = asyncio.Semaphore(max(1, spec.max_concurrency))

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients.values()), return_exceptions=True)
        await self.db(_close_connection)
        self.db_pool.shutdown(wait=True)

    async def endpoint_call(self, endpoint_id: str, fn: Callable[[Provider], Awaitable[T]], *,
                            cancelled: Callable[[], bool] | None = None) -> T:
        """Call `fn(provider)` with retries; the endpoint slot is held per attempt, not during backoff.

        `cancelled()` is checked once the slot is held, so a call queued behind the endpoint's
        limit (or waiting to retry) is never sent after a pause or stop.
        """
        if endpoint_id not in self.providers:
            raise EndpointUnavailable(endpoint_id)
        provider, limit = self.providers[endpoint_id], self.limits[endpoint_id]

        async def attempt() -> T:
            async with limit:
                if cancelled is not None and cancelled():
                    raise CallSkipped()
                return await fn(provider)

        return await with_retries(attempt, **self.retry)

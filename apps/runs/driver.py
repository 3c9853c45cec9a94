"""The sweep driver: one django-q task per sweep runs many LLM calls concurrently on asyncio.

The event loop only does HTTP; every database operation runs on one dedicated thread (one
connection, serialized writes, which SQLite needs). Finished runs are buffered and written in
batches; steering (pause/stop) and budgets are read from the database between batches.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection

from apps.core.models import SystemSettings
from apps.endpoints.specs import endpoint_specs_for_configs
from apps.engine import egress
from apps.engine.pipeline import run_pipeline
from apps.engine.providers import get_provider
from apps.engine.providers.retry import with_retries
from apps.engine.types import ChatRequest, Completion, EndpointSpec
from apps.runs.models import Run, Sweep
from apps.runs.services import recording

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.1
STEER_INTERVAL_S = 0.25
HEARTBEAT_INTERVAL_S = 10.0


class SweepDriver:
    def __init__(self, sweep_id: str) -> None:
        self.sweep_id = sweep_id
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-db")
        self.stopping: str | None = None
        self.endpoints: dict[str, EndpointSpec] = {}
        self.providers: dict[str, object] = {}
        self.limits: dict[str, asyncio.Semaphore] = {}
        self.allowlist = None
        self.retry = dict(settings.LLM_RETRY)

    async def db(self, fn, /, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.db_pool, lambda: fn(**kwargs))

    # PipelineBackend -------------------------------------------------------------------
    def endpoint(self, endpoint_id: str) -> EndpointSpec:
        return self.endpoints[endpoint_id]

    async def cache_get_many(self, keys: list[str]):
        return await self.db(recording.cache_get_many, keys=keys)

    def should_stop(self) -> bool:
        return self.stopping is not None

    async def complete(self, endpoint: EndpointSpec, request: ChatRequest) -> Completion:
        provider = self.providers[endpoint.id]
        limit = self.limits[endpoint.id]

        async def attempt() -> Completion:
            # The endpoint slot is held per attempt, so a backoff sleep frees it for other calls.
            async with limit:
                return await provider.complete(request)

        return await with_retries(attempt, **self.retry)

    # Lifecycle ---------------------------------------------------------------------------
    def _load(self):
        sweep = Sweep.objects.select_related("experiment__project").get(pk=self.sweep_id)
        if sweep.status == Sweep.Status.PENDING:
            Sweep.objects.filter(pk=sweep.pk, status=Sweep.Status.PENDING).update(status=Sweep.Status.RUNNING)
            sweep.refresh_from_db()
        configs = list(Run.objects.filter(sweep=sweep).exclude(status__in=recording.TERMINAL)
                       .values_list("config", flat=True).distinct()[:1000])
        endpoints = endpoint_specs_for_configs(configs)
        items = recording_items(sweep)
        system = SystemSettings.load()
        self.allowlist = egress.Allowlist.parse(system.egress_allowlist) if system.egress_allowlist.strip() else None
        return sweep, sweep.experiment, endpoints, items, system.max_tokens_per_sweep or settings.MAX_TOKENS_PER_SWEEP

    def _status(self):
        return Sweep.objects.filter(pk=self.sweep_id).values_list("status", flat=True).first()

    async def drive(self) -> None:
        try:
            await self._drive()
        finally:
            await self.db(_close_connection)
            self.db_pool.shutdown(wait=True)

    async def _drive(self) -> None:
        sweep, experiment, self.endpoints, items, global_tokens = await self.db(self._load)
        if sweep.status != Sweep.Status.RUNNING:
            return
        total_limit = 0
        async with _clients(self.endpoints, self.allowlist) as clients:
            for spec in self.endpoints.values():
                self.providers[spec.id] = get_provider(spec.kind)(spec, clients[spec.id])
                self.limits[spec.id] = asyncio.Semaphore(max(1, spec.max_concurrency))
                total_limit += max(1, spec.max_concurrency)
            # Enough runs in flight to keep every endpoint busy even when runs have few calls.
            window = max(2, min(256, total_limit * 2))
            in_flight: dict[asyncio.Task, recording.ClaimedRun] = {}
            finished: list = []
            last_flush = last_beat = last_steer = time.monotonic()
            exhausted = False
            token_limit = min([v for v in (sweep.budget_tokens, global_tokens) if v] or [0])
            spent = sweep.tokens_in + sweep.tokens_out
            over_budget = False
            while True:
                if not self.stopping and not exhausted and not over_budget and len(in_flight) < window:
                    claimed = await self.db(recording.runs_claim, sweep_id=self.sweep_id, owner=self.owner,
                                            limit=window - len(in_flight), experiment=experiment)
                    exhausted = len(claimed) < window - len(in_flight)
                    for run in claimed:
                        task = asyncio.create_task(self._execute(run, items, sweep.repeats))
                        in_flight[task] = run
                if not in_flight and (exhausted or self.stopping or over_budget) and not finished:
                    break
                if in_flight:
                    done, _ = await asyncio.wait(in_flight, timeout=FLUSH_INTERVAL_S,
                                                 return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        run = in_flight.pop(task)
                        outcome, duration_ms = task.result()
                        finished.append((run, outcome, duration_ms))
                        spent += sum(r.tokens_in + r.tokens_out for r in outcome.results if not r.cached)
                # Tokens are tallied in memory so a budget stops new claims at once, not a flush later.
                over_budget = bool(token_limit) and spent >= token_limit
                now = time.monotonic()
                if finished and (now - last_flush >= FLUSH_INTERVAL_S or not in_flight or over_budget):
                    batch, finished = finished, []
                    await self.db(recording.outcomes_record, sweep=sweep, experiment=experiment, owner=self.owner,
                                  finished=batch, stopping=self.stopping, endpoints=self.endpoints)
                    last_flush = now
                    await self._check_budget(experiment, global_tokens)
                if now - last_steer >= STEER_INTERVAL_S:
                    self._apply_status(await self.db(self._status))
                    last_steer = now
                if now - last_beat >= HEARTBEAT_INTERVAL_S:
                    await self.db(recording.leases_renew, sweep_id=self.sweep_id, owner=self.owner,
                                  run_ids=[r.id for r in in_flight.values()])
                    last_beat = now
                if not in_flight and (exhausted or over_budget) and not finished:
                    break
        if not self.stopping:
            await self.db(recording.sweep_finish_if_done, sweep_id=self.sweep_id, experiment=experiment)

    async def _check_budget(self, experiment, global_tokens: int) -> None:
        current = await self.db(lambda: Sweep.objects.get(pk=self.sweep_id))
        if current.status == Sweep.Status.RUNNING:
            reason = await self.db(recording.sweep_check_budget, sweep=current, experiment=experiment,
                                   global_tokens=global_tokens)
            if reason:
                self.stopping = "paused"
        self._apply_status(current.status)

    def _apply_status(self, status: str | None) -> None:
        # Once stopping, only escalate (paused → stopped), never silently resume mid-drain.
        if status == Sweep.Status.STOPPED or status is None:
            self.stopping = "stopped"
        elif status == Sweep.Status.PAUSED and self.stopping is None:
            self.stopping = "paused"

    async def _execute(self, run: recording.ClaimedRun, items: list[dict], repeats: int):
        started = time.monotonic()
        outcome = await run_pipeline(run_id=run.id, config=run.config, items=items, repeats=repeats, backend=self)
        return outcome, int((time.monotonic() - started) * 1000)


def recording_items(sweep: Sweep) -> list[dict]:
    from apps.runs.services.planning import select_items

    return select_items(sweep.experiment, sweep.sample_ids, inline=(sweep.request or {}).get("items"))


def _close_connection() -> None:
    connection.close()


class _clients:
    """One pooled client per endpoint (its own connection limit), closed together."""

    def __init__(self, endpoints: dict[str, EndpointSpec], allowlist) -> None:
        self.endpoints = endpoints
        self.allowlist = allowlist
        self.clients: dict = {}

    async def __aenter__(self):
        for spec in self.endpoints.values():
            self.clients[spec.id] = egress.async_client(
                policy=egress.Policy.LLM, allowlist=self.allowlist, connect_timeout_s=spec.connect_timeout_s,
                read_timeout_s=spec.read_timeout_s, max_connections=max(1, spec.max_concurrency),
                max_body_bytes=egress.LLM_MAX_BODY_BYTES,
            )
        return self.clients

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients.values()), return_exceptions=True)


def sweep_drive(sweep_id: str) -> None:
    """Entry point for the django-q task: drive the sweep until done, paused or stopped."""
    close_old_connections()
    started = time.monotonic()
    asyncio.run(SweepDriver(sweep_id).drive())
    logger.info("Sweep %s driver finished in %.1fs", sweep_id, time.monotonic() - started)

"""The sweep driver: one django-q task per sweep runs many LLM calls concurrently on asyncio.

Finished runs are scored, buffered and written in batches; steering (pause/stop) and budgets are
read from the database between batches. Runs are claimed with leases, so several drivers can
share a sweep and a dead driver's runs are taken over when its leases expire.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

from django.conf import settings
from django.db import close_old_connections

from apps.core.models import SystemSettings
from apps.engine.config import space_endpoint_ids, stage_endpoint_ids, stored_space
from apps.engine.pipeline import CallResult, PipelineOutcome, run_pipeline
from apps.engine.planners import planner_for
from apps.engine.types import ChatRequest, Completion, EndpointSpec
from apps.runs.llm_host import LLMHost
from apps.runs.models import Run, Sweep
from apps.runs.outputs import final_outputs, stage_count
from apps.runs.scoring_backend import ScoringBackend
from apps.runs.services import failures, recording
from apps.runs.services.adaptive import adaptive_step_for
from apps.runs.services.guided import guided_next_batch
from apps.runs.services.planning import select_items
from apps.runs.services.scoring import experiment_best_score, score_outputs
from apps.runs.services.transitions import sweep_transition

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.1
STEER_INTERVAL_S = 0.25
HEARTBEAT_INTERVAL_S = 10.0
LEASE_POLL_S = 2.0
TOTALS_INTERVAL_S = 1.0
ENDPOINT_SCAN_RUNS = 5000  # unfinished runs whose configs are read for endpoint ids besides the plan's


def sweep_endpoint_ids(*, sweep: Sweep, experiment) -> set[str]:
    """Every endpoint the sweep's runs may name: the stages', the endpoint axes' values and the scorers'.

    Plus those in the first unfinished runs' configs, for runs planned before the experiment or the
    space changed; reading every config of a 10⁵-run sweep would be slow, hence the cap.
    """
    spec = experiment.spec
    ids = stage_endpoint_ids(spec.stages) | space_endpoint_ids(stored_space(sweep.parameter_space))
    configs = (Run.objects.filter(sweep=sweep).unfinished()
               .values_list("config", flat=True)[:ENDPOINT_SCAN_RUNS])
    ids.update(str(stage.get("endpoint")) for config in configs for stage in config.get("stages") or [])
    planner = planner_for(sweep.kind)
    if planner is not None and (sweep.request or {}).get("options"):
        # A planner's own endpoints (a proposer's): validated at start, loaded only if still the owner's.
        ids.update(planner(sweep.request["options"]).endpoint_options().values())
    return ids | spec.scoring.endpoint_ids()


class SweepDriver(LLMHost):
    def __init__(self, sweep_id: str) -> None:
        super().__init__()
        self.sweep_id = sweep_id
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping: str | None = None
        self.specs = []
        self.best: dict = {"score": None}
        self.scoring = ScoringBackend(self)
        self.cache_owner = ""  # the project owner: the sweep reads and writes only their cache entries
        self.fresh_calls: list[recording.FreshCall] = []
        self.calls_ready: asyncio.Event | None = None

    # PipelineBackend -------------------------------------------------------------------
    def endpoint(self, endpoint_id: str) -> EndpointSpec:
        return self.endpoints[endpoint_id]

    async def cache_get_many(self, keys: list[str]):
        return await self.db(recording.cache_get_many, owner_id=self.cache_owner, keys=keys)

    def call_completed(self, *, run_id: str, endpoint: EndpointSpec, result: CallResult) -> None:
        # Stored by `_store_calls` as soon as the database thread is free: calls finishing meanwhile
        # share its next write, so this never costs one write per call under load.
        self.fresh_calls.append((run_id, endpoint, result))
        if self.calls_ready is not None:
            self.calls_ready.set()

    async def _store_calls(self) -> None:
        """Persist finished calls eagerly, so a crash costs only the calls still in flight."""
        while True:
            await self.calls_ready.wait()
            self.calls_ready.clear()
            calls, self.fresh_calls = self.fresh_calls, []
            if calls:
                await self.db(recording.calls_cache_store, owner_id=self.cache_owner, calls=calls)

    def should_stop(self) -> bool:
        return self.stopping is not None

    async def complete(self, endpoint: EndpointSpec, request: ChatRequest) -> Completion:
        return await self.endpoint_call(endpoint.id, lambda provider: provider.complete(request),
                                        cancelled=self.should_stop)

    # Lifecycle ---------------------------------------------------------------------------
    def _load(self):
        sweep = Sweep.objects.select_related("experiment__project").get(pk=self.sweep_id)
        if sweep.status == Sweep.Status.PENDING:
            sweep_transition(sweep_id=sweep.pk, to=Sweep.Status.RUNNING, only_from=[Sweep.Status.PENDING])
            sweep.refresh_from_db()
        experiment = sweep.experiment
        self.cache_owner = str(experiment.project.owner_id)
        self.load_endpoints(sweep_endpoint_ids(sweep=sweep, experiment=experiment),
                            owner_id=experiment.project.owner_id)
        self.specs = list(experiment.spec.scoring)
        self.best = {"score": experiment_best_score(experiment=experiment)}
        items = select_items(experiment=experiment, sample_ids=sweep.sample_ids,
                             inline=(sweep.request or {}).get("items"))
        system = SystemSettings.load()
        return sweep, experiment, items, system.max_tokens_per_sweep or settings.MAX_TOKENS_PER_SWEEP

    def _status(self):
        return Sweep.objects.filter(pk=self.sweep_id).values_list("status", flat=True).first()

    async def drive(self) -> None:
        try:
            sweep, experiment, items, global_tokens = await self.db(self._load)
            if sweep.status == Sweep.Status.RUNNING:
                self.open_clients()
                self.calls_ready = asyncio.Event()
                writer = asyncio.create_task(self._store_calls())
                try:
                    await self._loop(sweep, experiment, items, global_tokens)
                finally:
                    writer.cancel()
                    await asyncio.gather(writer, return_exceptions=True)
        finally:
            await self.scoring.aclose()
            await self.close()

    async def _loop(self, sweep, experiment, items, global_tokens: int) -> None:
        # Enough runs in flight to keep every endpoint busy even when runs have few calls; refill
        # when half have finished, so claims (each a write transaction) come in batches.
        window = max(2, min(256, 2 * sum(max(1, s.max_concurrency) for s in self.endpoints.values())))
        items_by_id = {str(item["id"]): item for item in items}
        in_flight: dict[asyncio.Task, recording.ClaimedRun] = {}
        finished: list = []
        last_flush = last_beat = last_steer = last_totals = time.monotonic()
        exhausted = over_budget = False
        token_limit = min([v for v in (sweep.budget_tokens, global_tokens) if v] or [0])
        planner = planner_for(sweep.kind)
        adaptive = planner is not None and planner.adaptive
        spent = sweep.tokens_in + sweep.tokens_out
        while True:
            if not self.stopping and not exhausted and not over_budget and len(in_flight) <= window // 2:
                claimed = await self.db(recording.runs_claim, sweep_id=self.sweep_id, owner=self.owner,
                                        limit=window - len(in_flight), experiment=experiment)
                exhausted = len(claimed) < window - len(in_flight)
                for run in claimed:
                    in_flight[asyncio.create_task(self._execute(run, items, items_by_id, sweep.repeats))] = run
            if not in_flight and not finished and (exhausted or self.stopping or over_budget):
                if exhausted and not self.stopping and not over_budget and adaptive:
                    # Every run so far is scored: let the guided search plan the next batch.
                    if await self.adaptive_step(sweep.kind):
                        exhausted = False
                        continue
                if exhausted and not self.stopping and not over_budget:
                    # Other drivers hold leases on unfinished runs: if one died, take its runs over
                    # when its lease expires; if it is alive, finish when it does.
                    wait = await self.db(recording.foreign_lease_wait, sweep_id=self.sweep_id, owner=self.owner)
                    if wait is not None:
                        await asyncio.sleep(min(wait + 0.05, LEASE_POLL_S))
                        exhausted = False
                        self._apply_status(await self.db(self._status))
                        continue
                break
            if in_flight:
                done, _ = await asyncio.wait(in_flight, timeout=FLUSH_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    run = in_flight.pop(task)
                    outcome, duration_ms, scores = task.result()
                    finished.append((run, outcome, duration_ms, scores))
                    spent += sum(r.tokens_in + r.tokens_out for r in outcome.results if not r.cached)
            # Tokens are tallied in memory so a budget stops new claims at once, not a flush later.
            over_budget = bool(token_limit) and spent >= token_limit
            now = time.monotonic()
            # Finished calls are flushed even when no run finished: a crash costs at most the calls in flight.
            due = now - last_flush >= FLUSH_INTERVAL_S or not in_flight or over_budget
            if (finished or self.fresh_calls) and due:
                batch, finished = finished, []
                calls, self.fresh_calls = self.fresh_calls, []
                await self.db(recording.outcomes_record, sweep=sweep, experiment=experiment, owner=self.owner,
                              finished=batch, stopping=self.stopping, calls=calls, cache_owner=self.cache_owner,
                              specs=self.specs, best=self.best)
                last_flush = now
                # Sweep totals are one aggregate over its runs: refresh them about once a second.
                if over_budget or now - last_totals >= TOTALS_INTERVAL_S:
                    await self.db(recording.sweep_refresh_totals, sweep_id=self.sweep_id)
                    last_totals = now
                if over_budget:
                    await self._check_budget(experiment, global_tokens)
            if now - last_steer >= STEER_INTERVAL_S:
                self._apply_status(await self.db(self._status))
                last_steer = now
            if now - last_beat >= HEARTBEAT_INTERVAL_S:
                await self.db(recording.leases_renew, sweep_id=self.sweep_id, owner=self.owner,
                              run_ids=[r.id for r in in_flight.values()])
                last_beat = now
        await self.db(recording.sweep_refresh_totals, sweep_id=self.sweep_id)
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

    async def adaptive_step(self, kind: str) -> int:
        """Plan an adaptive sweep's next batch (0: the search is done); see apps.runs.services.adaptive."""
        step = adaptive_step_for(kind)
        if step is None:
            return await self.db(guided_next_batch, sweep_id=self.sweep_id)
        return await step(self)

    async def _execute(self, run: recording.ClaimedRun, items: list[dict], items_by_id: dict, repeats: int):
        started = time.monotonic()
        if run.sample_ids is not None:  # a halving rung: the sweep's items among the run's, in sweep order
            chosen = set(run.sample_ids)
            items = [item for item in items if str(item["id"]) in chosen]
        try:
            failures.endpoints_check(config=run.config, available=self.endpoints)
            outcome = await run_pipeline(run_id=run.id, config=run.config, items=items, repeats=repeats,
                                         backend=self)
            scores = None
            if not outcome.interrupted and self.specs:
                outputs = final_outputs(((r.item_id, r.repeat, r.stage_index, r.stage_name, r.text, r.error)
                                         for r in outcome.results), stages=stage_count(run.config))
                scores = await score_outputs(specs=self.specs, run_id=run.id, config=run.config,
                                             items=items_by_id, outputs=outputs, backend=self.scoring,
                                             python_enabled=self.python_enabled)
        except Exception as exc:
            # One run's unexpected error fails that run, not the driver. It is recorded here; the loop
            # gets an interrupted outcome, which it skips since the run is no longer leased to us.
            if failures.is_infrastructure(exc):
                raise
            if not isinstance(exc, failures.RunUnexecutable):
                logger.exception("Run %s of sweep %s failed unexpectedly", run.id, self.sweep_id)
            duration_ms = int((time.monotonic() - started) * 1000)
            await self.db(failures.run_fail, run_id=run.id, owner=self.owner, error=failures.error_text(exc),
                          duration_ms=duration_ms)
            return PipelineOutcome(interrupted=True), duration_ms, None
        return outcome, int((time.monotonic() - started) * 1000), scores


def sweep_drive(sweep_id: str) -> None:
    """Entry point for the django-q task: drive the sweep until done, paused or stopped."""
    close_old_connections()
    started = time.monotonic()
    driver = SweepDriver(sweep_id)
    try:
        asyncio.run(driver.drive())
    except Exception as exc:
        # Not re-raised: the failure is counted in the database, which decides when the sweep gives up.
        logger.exception("Sweep %s driver failed after %.1fs", sweep_id, time.monotonic() - started)
        try:
            failures.driver_failure_record(sweep_id=sweep_id, owner=driver.owner, error=failures.error_text(exc))
        except Exception:
            logger.exception("Could not record the failure of sweep %s's driver", sweep_id)
        finally:
            close_old_connections()
        return
    logger.info("Sweep %s driver finished in %.1fs", sweep_id, time.monotonic() - started)

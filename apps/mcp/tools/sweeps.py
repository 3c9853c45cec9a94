"""Sweeps: estimate (dry run), start (optionally waiting, with progress), pause, resume, stop, redirect, and a
person's approval of an agent sweep that is waiting for one."""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any, Literal

from asgiref.sync import sync_to_async
from pydantic import BaseModel, Field, model_validator

from apps.engine.planners import PLANNERS, redirect_kinds
from apps.experiments.selectors import experiment_get
from apps.mcp.registry import Args, Call, ToolSpec
from apps.runs import selectors
from apps.runs.services import runs as run_services
from apps.runs.services import sweeps
from apps.runs.services.agent_sweep import agent_sweep_approve
from apps.runs.services.budget import OVER_BUDGET
from apps.runs.services.dry_run import sweep_dry_run, sweep_space_resolve
from apps.runs.services.transitions import SWEEP_FINAL

SweepType = Literal[tuple(PLANNERS.kinds())]  # type: ignore[valid-type]
RedirectType = Literal[tuple(redirect_kinds())]  # type: ignore[valid-type]
OverBudget = Literal[OVER_BUDGET]  # type: ignore[valid-type]
POLL_S = 0.25  # how often a waiting run_sweep re-reads the sweep row
MAX_WAIT_S = 3600


class SweepOut(BaseModel):
    id: str
    experiment_id: str
    kind: str
    status: str
    pause_reason: str
    runs_done: int
    runs_total: int
    calls_total: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: str
    finished: bool = Field(description="True once the sweep completed, stopped or failed.")
    note: str = ""


class TokenRange(BaseModel):
    low: int
    expected: int
    high: int


class CostRange(BaseModel):
    low: float
    expected: float
    high: float


class Calibration(BaseModel):
    endpoint: str
    model: str
    source: Literal["history", "heuristic"] = Field(description="history: measured from your response cache; "
                                                                "heuristic: characters / 4 before any history.")
    calls: int = Field(description="Cached calls the numbers come from.")
    chars_per_token: float | None
    output_tokens_mean: float | None
    output_tokens_p90: float | None


class CallRange(BaseModel):
    low: int
    high: int


class PlannerSpend(BaseModel):
    calls: CallRange
    tokens: TokenRange
    cost_usd_range: CostRange


class Estimate(BaseModel):
    runs: int
    calls: int
    cached_calls: int = Field(description="Calls the cache already answers: free.")
    uncached_calls: int
    tokens_in: int = Field(description="Expected.")
    tokens_out: int = Field(description="Expected.")
    cost_usd: float = Field(description="Expected; the ranges bound it.")
    tokens: TokenRange = Field(description="Tokens in + out: low, expected, high.")
    tokens_in_range: TokenRange
    tokens_out_range: TokenRange = Field(description="High: max_tokens per call (or a guess without it).")
    cost_usd_range: CostRange
    calibration: list[Calibration] = Field(description="Per endpoint and model: where the numbers come from.")
    adaptive: bool = Field(False, description="An adaptive sweep: runs and calls are the most it may make.")
    runs_range: CallRange | None = Field(None, description="Adaptive sweeps: the runs at least and at most.")
    calls_range: CallRange | None = Field(None, description="Adaptive sweeps: the stage calls at least and at most.")
    planner: PlannerSpend | None = Field(None, description="The planner's own LLM calls (a proposer's, an "
                                                           "agent's), included in the totals.")


class BudgetFit(BaseModel):
    tokens: int | None = Field(description="The token limit that applies (the sweep's or the server's), if any.")
    usd: float | None
    fits: bool = Field(description="The expected spend is within every budget.")
    short_tokens: int
    short_usd: float
    message: str = Field(description="What is short and by how much, or that the upper end may reach a budget.")


class DryRun(BaseModel):
    runs: int
    calls: int
    note: str
    points: list[dict[str, Any]] = Field(description="The first planned points (parameter values by path).")
    estimate: Estimate
    budget: BudgetFit = Field(description="The estimate against the budgets a start would use (docs/estimates.md).")


class Redirected(BaseModel):
    sweep: SweepOut
    removed_runs: int
    added_runs: int


class SweepArgs(Args):
    experiment_id: uuid.UUID
    type: SweepType = Field("grid", description="The planner (docs/planners.md): grid (every point), random (n "
                                                "points), tpe, guided, halving, prompt_search or agent.")
    n: int | None = Field(None, ge=1, le=100_000, description="Configurations: required for random, tpe and "
                                                               "guided; halving samples n, agent runs at most n.")
    seed: int | None = None
    repeats: int | None = Field(None, ge=1, le=100)
    sample_ids: list[str] | None = Field(None, description="Only these sample items.")
    parameter_space: list[dict[str, Any]] | None = Field(None, description="Instead of the experiment's own.")

    @model_validator(mode="after")
    def _needs_n(self):
        if PLANNERS.get(self.type).needs_n and not self.n:
            raise ValueError(f"n: a {self.type} sweep needs n, the number of configurations")
        return self


class BudgetArgs(Args):
    budget_tokens: int | None = Field(None, ge=0, description="Pause once this many tokens are spent.")
    budget_usd: float | None = Field(None, ge=0, description="Pause once this much (USD) is spent.")

    def budgets(self) -> dict:
        return {"budget_tokens": self.budget_tokens,
                "budget_usd": None if self.budget_usd is None else Decimal(str(self.budget_usd))}


class EstimateSweepArgs(SweepArgs, BudgetArgs):
    batch: int | None = Field(None, ge=1, le=256, description="Guided sweeps: configurations per round.")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="The sweep type's own options (docs/planners.md), as run_sweep "
                                                "takes them.")


class RunSweepArgs(SweepArgs, BudgetArgs):
    over_budget: OverBudget = Field("pause", description="pause: start, and pause when a budget is reached; "
                                    "refuse: refuse to start a sweep whose estimate exceeds a budget, saying by how "
                                    "much (docs/estimates.md).")
    batch: int | None = Field(None, ge=1, le=256, description="Guided sweeps: configurations per round.")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="The sweep type's own options (docs/planners.md), e.g. tpe's "
                                                "n_startup_trials.")
    wait: bool = Field(False, description="Return only when the sweep has finished (or paused, or timeout_s "
                                          "passed); sends progress notifications when you pass a progress token.")
    timeout_s: float = Field(600, gt=0, le=MAX_WAIT_S, description="How long wait waits at most.")


class ExperimentIdArgs(Args):
    experiment_id: uuid.UUID


class ApproveArgs(Args):
    sweep_id: uuid.UUID
    note: str = Field("", max_length=2000, description="Shown to the agent with the approval.")


class PauseArgs(ExperimentIdArgs):
    reason: str = Field("paused by an agent", max_length=200)


class RedirectArgs(Args):
    experiment_id: uuid.UUID
    parameter_space: list[dict[str, Any]]
    type: RedirectType | None = None
    n: int | None = Field(None, ge=1, le=100_000)
    seed: int | None = None


def sweep_out(sweep, note: str = "") -> SweepOut:
    return SweepOut(
        id=str(sweep.pk), experiment_id=str(sweep.experiment_id), kind=sweep.kind, status=sweep.status,
        pause_reason=sweep.pause_reason, runs_done=sweep.runs_done, runs_total=sweep.runs_total,
        calls_total=sweep.calls_total, cache_hits=sweep.cache_hits, tokens_in=sweep.tokens_in,
        tokens_out=sweep.tokens_out, cost_usd=str(sweep.cost_usd), finished=sweep.status in SWEEP_FINAL, note=note)


def _common(args: SweepArgs, experiment) -> dict:
    return {"kind": args.type, "repeats": args.repeats or experiment.repeats, "n": args.n, "seed": args.seed,
            "sample_ids": args.sample_ids}


def estimate_sweep(call: Call, args: EstimateSweepArgs) -> DryRun:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    space = sweep_space_resolve(user=call.user, experiment=experiment, parameter_space=args.parameter_space)
    return DryRun.model_validate(sweep_dry_run(experiment=experiment, parameter_space=space, **args.budgets(),
                                               batch=args.batch, options=args.options,
                                               **_common(args, experiment)).as_dict())


def _start(call: Call, args: RunSweepArgs) -> SweepOut:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    space = sweep_space_resolve(user=call.user, experiment=experiment, parameter_space=args.parameter_space)
    sweep, plan = sweeps.sweep_start(
        user=call.user, experiment=experiment, parameter_space=space, batch=args.batch, options=args.options,
        over_budget=args.over_budget, **args.budgets(), **_common(args, experiment))
    return sweep_out(sweep, plan.note)


def _read(call: Call, sweep_id: str, note: str) -> SweepOut:
    return sweep_out(selectors.sweep_get(user=call.user, sweep_id=sweep_id), note)


async def sweep_wait(call: Call, sweep: SweepOut, *, timeout_s: float) -> SweepOut:
    """Re-read the sweep until it stops moving (finished or paused), reporting runs done of total."""
    deadline, reported = time.monotonic() + timeout_s, None
    while True:
        if (sweep.runs_done, sweep.runs_total) != reported:
            reported = (sweep.runs_done, sweep.runs_total)
            await call.ctx.report_progress(sweep.runs_done, sweep.runs_total,
                                           f"{sweep.runs_done} of {sweep.runs_total} runs done")
        if sweep.finished or sweep.status == "paused" or time.monotonic() >= deadline:
            return sweep
        await asyncio.sleep(POLL_S)
        sweep = await sync_to_async(_read)(call, sweep.id, sweep.note)


async def run_sweep(call: Call, args: RunSweepArgs) -> SweepOut:
    sweep = await sync_to_async(_start)(call, args)
    return await sweep_wait(call, sweep, timeout_s=args.timeout_s) if args.wait else sweep


def _steer(action, **kwargs):
    def steer(call: Call, args: ExperimentIdArgs) -> SweepOut:
        experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
        extra = {name: getattr(args, name) for name in kwargs}
        return sweep_out(action(experiment=experiment, **extra))

    return steer


def approve_sweep(call: Call, args: ApproveArgs) -> SweepOut:
    sweep = selectors.sweep_get(user=call.user, sweep_id=args.sweep_id)
    return sweep_out(agent_sweep_approve(user=call.user, sweep=sweep, note=args.note))


def redirect_sweep(call: Call, args: RedirectArgs) -> Redirected:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    space = run_services.parameter_space_validate(user=call.user, experiment=experiment,
                                                  parameter_space=args.parameter_space)
    sweep, removed, added = sweeps.sweep_redirect(experiment=experiment, parameter_space=space, kind=args.type,
                                                  n=args.n, seed=args.seed)
    return Redirected(sweep=sweep_out(sweep), removed_runs=removed, added_runs=added)


TOOLS = [
    ToolSpec("estimate_sweep", "Plan a sweep without running it: runs, LLM calls, calls the cache already holds "
             "(free), tokens and cost as ranges, and whether it fits its budgets. Adaptive types (tpe, halving, "
             "prompt_search, agent) give the calls they make at least and at most.", EstimateSweepArgs,
             DryRun, estimate_sweep, read_only=True, idempotent=True),
    ToolSpec("run_sweep", "Start a sweep over the experiment's parameter space (one run per configuration). With "
             "wait=true, return when it finishes, reporting progress as runs done of total.", RunSweepArgs, SweepOut,
             run_sweep, open_world=True),
    # Steering is idempotent: repeating it is refused (the sweep is already paused, running or stopped).
    ToolSpec("pause_sweep", "Pause the running sweep: calls in flight finish, nothing new starts.", PauseArgs,
             SweepOut, _steer(sweeps.sweep_pause, reason=True), idempotent=True),
    ToolSpec("resume_sweep", "Resume the paused sweep.", ExperimentIdArgs, SweepOut, _steer(sweeps.sweep_resume),
             idempotent=True),
    ToolSpec("stop_sweep", "Stop the sweep for good: its pending runs are cancelled (finished runs are kept).",
             ExperimentIdArgs, SweepOut, _steer(sweeps.sweep_stop), destructive=True, idempotent=True),
    # Idempotent like steering: a repeat is refused, the sweep no longer waits for a person.
    ToolSpec("approve_sweep", "Approve what a paused agent sweep asked a person for (human_needed: a review, or "
             "spending past its threshold) and resume it; the agent sees the note. Refused when the sweep is not "
             "waiting for approval.", ApproveArgs, SweepOut, approve_sweep, idempotent=True),
    ToolSpec("redirect_sweep", "Replace the unstarted rest of the current sweep's plan with a new parameter space; "
             "started and finished runs are kept.", RedirectArgs, Redirected, redirect_sweep, destructive=True),
]

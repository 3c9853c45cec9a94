"""Agent sweeps: a looplet agent loop, whose tools are our services, decides which configurations run.

The driver calls `agent_sweep_step` whenever the sweep has no runs left to execute. It rebuilds the
loop from `Sweep.request["agent"]` (every finished step, with the scores of the batches it ran) and
continues it until the agent runs a batch (the driver executes it, then calls again), asks for a
person (the sweep pauses with `human_needed` until someone approves), or finishes with a summary.
A crash therefore costs at most the LLM call in flight: recovery continues from the stored steps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import aclosing
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from looplet import BaseToolRegistry, DefaultState, LoopConfig, ToolSpec, async_composable_loop
from looplet.session import SessionLog
from looplet.types import Step, ToolCall, ToolResult

from apps.core.errors import Conflict, InvalidInput
from apps.core.models import SystemSettings
from apps.core.types import Id
from apps.endpoints.models import Endpoint
from apps.endpoints.specs import endpoint_spec
from apps.engine import egress
from apps.engine.providers import get_provider
from apps.runs.models import Run, Sweep
from apps.runs.services import agent_tools, recording
from apps.runs.services.agent_llm import AgentLLM
from apps.runs.services.sweeps import sweep_resume

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.runs.driver import SweepDriver

logger = logging.getLogger(__name__)

EFFECTS = {"run_batch", "request_human_review", "finish"}
MAX_LLM_ERRORS = 2
SYSTEM_PROMPT = (
    "You run a prompt-engineering experiment. Each configuration is one point of the parameter space "
    "(every axis path set to one of its values); running it scores it on the experiment's sample items. "
    "Read the leaderboard, run small batches of promising configurations, ask a person when a decision "
    "needs one, and finish with a summary of what you found and which configuration to use."
)


def agent_options_check(*, user: User, options: dict) -> None:
    """At sweep start: the agent's LLM must be one of the user's endpoints (errors name the field)."""
    endpoint_id = str(options.get("endpoint", ""))
    if not _uuid(endpoint_id) or not Endpoint.objects.filter(pk=endpoint_id, owner=user).exists():
        raise InvalidInput(errors={"options.endpoint": ["Not one of your endpoints."]})


def _uuid(value: str) -> bool:
    return agent_tools.is_uuid(value)


# The database side of a step: the loop's state in, approvals applied, batch scores read. ------------
def _begin(*, sweep_id: Id) -> dict | None:
    """The loop's state to continue from, or None when the agent has nothing to do now."""
    with transaction.atomic():
        sweep = agent_tools._locked(sweep_id)
        agent = agent_tools.agent_state(sweep)
        if not agent and sweep.status == Sweep.Status.RUNNING:
            agent = _initial(sweep)
            agent_tools._save(sweep, agent)
        if sweep.status != Sweep.Status.RUNNING or not agent or agent.get("done"):
            return None
        if Run.objects.filter(sweep=sweep).unfinished().exists():
            return None  # another driver is still running the last batch
        pending = agent.pop("pending", None)
        if pending:
            # The sweep runs again, so a person let it continue (approve-continue, or a plain resume).
            approval = pending.get("approval") or {"approved": True, "note": "", "by": "resumed"}
            for step in agent["steps"]:
                if step["n"] == pending["step"]:
                    step["result"] = {**(step.get("result") or {}), "paused": False, "approval": approval}
            if pending["kind"] == "spend":
                agent["spend_approved"] = True
            agent_tools._save(sweep, agent)
        steps = [dict(s) for s in agent.get("steps", [])]
        for step in steps:
            if step["tool"] == "run_batch" and isinstance(step.get("result"), dict) and step["result"].get("run_ids"):
                step["result"] = {**step["result"], "results": agent_tools.batch_results(
                    sweep_id=sweep_id, run_ids=step["result"]["run_ids"])}
        return {"options": agent["options"], "steps": steps, "space": sweep.parameter_space,
                "owner_id": sweep.experiment.project.owner_id, "experiment": sweep.experiment.name,
                "scorers": [s.get("type") for s in (sweep.experiment.scoring_config or {}).get("scorers", [])],
                "cap": (sweep.request.get("guided") or {}).get("n") or 20,
                "budget_tokens": sweep.budget_tokens, "per_run": _tokens_per_run(sweep)}


def _initial(sweep: Sweep) -> dict:
    """The loop's state before its first step: the options the planner checked at start."""
    state = ((sweep.request or {}).get("guided") or {}).get("state") or {}
    return {"options": state["options"], "steps": []} if "options" in state else {}


def _tokens_per_run(sweep: Sweep) -> int:
    finished = Run.objects.filter(sweep=sweep).finished()
    count = finished.count()
    if not count:
        return 0
    totals = finished.totals()
    return (totals["tokens_in"] + totals["tokens_out"]) // count


def _budget_check(*, sweep_id: Id) -> str | None:
    """Pause at the sweep's budget before the agent spends more (its own tokens count too)."""
    sweep = recording.sweep_refresh_totals(sweep_id=sweep_id)
    system = SystemSettings.load()
    return recording.sweep_check_budget(sweep=sweep, experiment=sweep.experiment,
                                        global_tokens=system.max_tokens_per_sweep or settings.MAX_TOKENS_PER_SWEEP)


def _endpoint_load(*, endpoint_id: str, owner_id: Id):
    row = Endpoint.objects.filter(pk=endpoint_id, owner_id=owner_id).first() if _uuid(endpoint_id) else None
    return endpoint_spec(row) if row is not None else None


async def _open_endpoint(driver: SweepDriver, endpoint_id: str, owner_id: Id) -> bool:
    """The agent's endpoint joins the driver's (owner-checked again: it may have been deleted since)."""
    if endpoint_id in driver.providers:
        return True
    spec = await driver.db(_endpoint_load, endpoint_id=endpoint_id, owner_id=owner_id)
    if spec is None:
        return False
    driver.endpoints[spec.id] = spec
    driver.clients[spec.id] = egress.async_client(
        policy=egress.Policy.LLM, allowlist=driver.allowlist, connect_timeout_s=spec.connect_timeout_s,
        read_timeout_s=spec.read_timeout_s, max_connections=max(1, spec.max_concurrency),
        max_body_bytes=egress.LLM_MAX_BODY_BYTES)
    driver.providers[spec.id] = get_provider(spec.kind)(spec, driver.clients[spec.id])
    driver.limits[spec.id] = asyncio.Semaphore(max(1, spec.max_concurrency))
    return True


# The loop. ------------------------------------------------------------------------------------------
class _Turn:
    """What the pre_dispatch hook saw (the call being dispatched) and what an effect tool did."""

    def __init__(self, llm: AgentLLM) -> None:
        self.llm = llm
        self.call: ToolCall | None = None
        self.started = 0.0
        self.outcome: str | None = None
        self.planned = 0

    def pre_dispatch(self, state, log, tc, step):
        self.call, self.started = tc, time.monotonic()

    def record(self, state: DefaultState, tool: str, args: dict) -> dict:
        """The step an effect tool records with its effect. looplet dispatches its done tool (`finish`)
        without the pre_dispatch hook, so the call seen there may be an earlier one."""
        call = self.call if self.call is not None and self.call.tool == tool else None
        started = self.started if call is not None else time.monotonic()
        return {"n": state.step_count + 1, "tool": tool, "args": args,
                "reasoning": call.reasoning if call is not None else _reasoning(self.llm.last_text),
                "result": None, "error": None, "duration_ms": int((time.monotonic() - started) * 1000),
                "usage": self.llm.last_call.as_dict()}


def _reasoning(reply: str) -> str:
    try:
        value = json.loads(reply)
    except ValueError:
        return ""
    return str(value.get("reasoning") or "") if isinstance(value, dict) else ""


def _tools(driver: SweepDriver, turn: _Turn, snapshot: dict, state: DefaultState) -> BaseToolRegistry:
    sweep_id = driver.sweep_id

    async def db(fn, **kwargs):
        try:
            return await driver.db(fn, sweep_id=sweep_id, **kwargs)
        except agent_tools.ToolRefused as exc:
            raise ValueError(str(exc)) from None

    async def read_leaderboard(*, top: int = 10) -> dict:
        return await db(agent_tools.leaderboard_read, top=top)

    async def read_run(*, run_id: str) -> dict:
        return await db(agent_tools.run_details, run_id=run_id)

    async def run_batch(*, configs: list) -> dict:
        step = turn.record(state, "run_batch", {"configs": configs})
        result = await db(agent_tools.batch_run, step=step, configs=configs, estimate_per_run=snapshot["per_run"])
        turn.outcome = "paused" if result.get("paused") else "batch"
        turn.planned = result.get("planned_runs", 0)
        return result

    async def request_human_review(*, reason: str) -> dict:
        step = turn.record(state, "request_human_review", {"reason": reason})
        result = await db(agent_tools.review_request, step=step, reason=reason)
        turn.outcome = "paused"
        return result

    async def finish(*, summary: str) -> dict:
        step = turn.record(state, "finish", {"summary": summary})
        result = await db(agent_tools.finish, step=step, summary=summary)
        turn.outcome = "done"
        return result

    axes = ", ".join(axis.get("path", "?") for axis in snapshot["space"])
    registry = BaseToolRegistry()
    for name, fn, description, parameters in [
        ("read_leaderboard", read_leaderboard, "The experiment's best runs so far (rank, point, weighted score, "
         "95% interval).", {"top": "(optional) how many rows, default 10"}),
        ("read_run", read_run, "One run's details: point, status, scores per scorer, outputs per item.",
         {"run_id": "the run's id"}),
        ("run_batch", run_batch, f"Run up to {snapshot['options']['batch_max']} new configurations; each sets "
         f"every axis ({axes}) to one of its values. Their scores come back on your next step.",
         {"configs": "list of objects: axis path → value"}),
        ("request_human_review", request_human_review, "Pause the sweep and ask a person to look; you continue "
         "when they approve.", {"reason": "what the person should look at and decide"}),
        ("finish", finish, "End the sweep with a summary: what you tried, what won and why.",
         {"summary": "the summary"}),
    ]:
        registry.register(ToolSpec(name=name, description=description, parameters=parameters, execute=fn))
    return registry


def _restored(snapshot: dict) -> tuple[DefaultState, SessionLog]:
    state = DefaultState(max_steps=snapshot["options"]["max_steps"])
    log = SessionLog()
    for s in snapshot["steps"]:
        call = ToolCall(tool=s["tool"], args=s.get("args") or {}, reasoning=s.get("reasoning") or "",
                        call_id=f"s{s['n']}")
        args = ", ".join(f"{k}={v!r}" for k, v in (s.get("args") or {}).items())[:200]
        state.steps.append(Step(number=s["n"], tool_call=call, tool_result=ToolResult(
            tool=s["tool"], args_summary=args, data=s.get("result"), error=s.get("error"), call_id=call.call_id)))
        log.record(step=s["n"], theory="", tool=s["tool"], reasoning=s.get("reasoning") or "")
    return state, log


async def agent_sweep_step(driver: SweepDriver) -> int:
    """The agent's turn between batches: the number of runs it planned (0: paused, finished or waiting)."""
    snapshot = await driver.db(_begin, sweep_id=driver.sweep_id)
    if snapshot is None:
        return 0
    options = snapshot["options"]
    out_of_steps = f"The agent used its {options['max_steps']} steps without finishing."
    if len(snapshot["steps"]) >= options["max_steps"]:
        return await _give_up(driver, snapshot["steps"], out_of_steps)
    if not await _open_endpoint(driver, options["endpoint"], snapshot["owner_id"]):
        return await _give_up(driver, snapshot["steps"], "The agent's endpoint is gone (deleted, or not the owner's).")
    llm = AgentLLM(driver, endpoint_id=options["endpoint"], model=options["model"],
                   temperature=options["temperature"], max_tokens=options["max_tokens"])
    turn = _Turn(llm)
    state, log = _restored(snapshot)
    config = LoopConfig(max_steps=options["max_steps"], system_prompt=SYSTEM_PROMPT, use_native_tools=False,
                        temperature=options["temperature"], max_tokens=options["max_tokens"], done_tool="finish")
    task = {"goal": options["goal"], "experiment": snapshot["experiment"], "parameter_space": snapshot["space"],
            "scorers": snapshot["scorers"], "configurations_allowed": snapshot["cap"],
            "token_budget": snapshot["budget_tokens"]}
    errors = 0
    if await driver.db(_budget_check, sweep_id=driver.sweep_id):
        driver.stopping = "paused"
        return 0
    loop = async_composable_loop(llm=llm, tools=_tools(driver, turn, snapshot, state), hooks=[turn], config=config,
                                 state=state, session_log=log, task=task)
    async with aclosing(loop) as steps:
        async for step in steps:
            await driver.db(agent_tools.step_record, sweep_id=driver.sweep_id, step={
                "n": step.number, "tool": step.tool_call.tool, "args": step.tool_call.args,
                "reasoning": step.tool_call.reasoning, "result": step.tool_result.data,
                "error": step.tool_result.error, "duration_ms": int(step.tool_result.duration_ms),
                "usage": llm.last_call.as_dict()})
            llm.last_call = type(llm.last_call)()  # a multi-call turn's tokens count once
            if turn.outcome == "batch" and turn.planned:
                return turn.planned
            if turn.outcome == "batch":
                turn.outcome = None  # every configuration had run already: the agent goes on
            if turn.outcome == "paused":
                driver.stopping = "paused"  # so the driver drains and exits without completing the sweep
                return 0
            if turn.outcome == "done":
                return 0
            errors = errors + 1 if step.tool_call.tool.startswith("__") else 0
            if errors >= MAX_LLM_ERRORS:
                return await _give_up(driver, _numbers(state), f"The agent's LLM failed: {step.tool_result.error}")
            if driver.should_stop():
                return 0
            if await driver.db(_budget_check, sweep_id=driver.sweep_id):
                driver.stopping = "paused"
                return 0
    # looplet ends the loop itself once max_steps steps are taken.
    reason = out_of_steps if len(state.steps) >= options["max_steps"] else "The agent stopped without finishing."
    return await _give_up(driver, _numbers(state), reason)


def _numbers(state: DefaultState) -> list[dict]:
    """The steps taken so far, restored ones and this turn's, as {"n": number}."""
    return [{"n": step.number} for step in state.steps]


async def _give_up(driver: SweepDriver, steps: list[dict], reason: str) -> int:
    # Numbered after every step taken, this turn's included: a reused number would drop it from the timeline.
    number = max([s["n"] for s in steps] or [0]) + 1
    step = {"n": number, "tool": "finish", "args": {}, "reasoning": reason, "result": None, "error": None,
            "duration_ms": 0, "usage": {}}
    await driver.db(agent_tools.finish, sweep_id=driver.sweep_id, step=step, summary=reason)
    return 0


# A person approves. ----------------------------------------------------------------------------------
def agent_sweep_approve(*, user: User, sweep: Sweep, note: str = "") -> Sweep:
    """A person lets a paused agent sweep continue: the agent sees the approval (and the note) next step."""
    note = (note or "").strip()
    if len(note) > 2000:
        raise InvalidInput(errors={"note": ["At most 2000 characters."]})
    with transaction.atomic():
        locked = agent_tools._locked(sweep.pk)
        agent = agent_tools.agent_state(locked)
        pending = agent.get("pending")
        if locked.kind != "agent" or locked.status != Sweep.Status.PAUSED or not pending:
            raise Conflict("This sweep is not waiting for a person's approval.")
        agent["pending"] = {**pending, "approval": {"approved": True, "note": note, "by": user.get_username()}}
        agent_tools._save(locked, agent)
        return sweep_resume(experiment=locked.experiment)

"""What an agent sweep's tools do in the database (on the driver's DB thread), and the step record.

Every tool with an effect records its step in the same transaction as the effect (runs planned,
sweep paused, summary written), so a crash never leaves an effect without its step on the timeline;
read-only steps are recorded once they return. `Sweep.request["agent"]` holds the whole loop state.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.ids import is_uuid
from apps.core.types import Id
from apps.engine.planners.agent import point_problems
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.models import Run, Sweep
from apps.runs.services.guided import proposal_checker
from apps.runs.services.planning import run_config_hash, samples_fingerprint, select_items
from apps.runs.services.transitions import sweep_transition

RESULT_CHARS = 4000  # of a step's result kept in the state (the event keeps a shorter summary)
SUMMARY_CHARS = 600
REASON_CHARS = 200  # Sweep.pause_reason


class ToolRefused(Exception):
    """The agent asked for something it may not do; the message goes back to it as the tool's error."""


def clipped(value: Any, limit: int) -> Any:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return value if len(text) <= limit else text[:limit] + "…"


def agent_state(sweep: Sweep) -> dict:
    return (sweep.request or {}).get("agent") or {}


def _locked(sweep_id: Id) -> Sweep:
    return Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)


def _save(sweep: Sweep, agent: dict) -> None:
    sweep.request = {**sweep.request, "agent": agent}
    sweep.save(update_fields=["request", "runs_total"])


def _add_usage(sweep: Sweep, usage: dict) -> None:
    """The agent's own tokens and cost: `sweep_refresh_totals` adds them to the sweep's (its budget)."""
    total = dict((sweep.request or {}).get("planner_usage") or {})
    total["tokens_in"] = total.get("tokens_in", 0) + usage.get("tokens_in", 0)
    total["tokens_out"] = total.get("tokens_out", 0) + usage.get("tokens_out", 0)
    total["cost_usd"] = round(total.get("cost_usd", 0) + usage.get("cost_usd", 0), 8)
    total["calls"] = total.get("calls", 0) + (0 if usage.get("cached") or not usage else 1)
    keys = list((sweep.request or {}).get("planner_cache_keys") or [])
    if usage.get("cache_key") and usage["cache_key"] not in keys:  # the experiment's cache clear removes it
        keys.append(usage["cache_key"])
    sweep.request = {**sweep.request, "planner_usage": total, "planner_cache_keys": keys}


def _record(sweep: Sweep, agent: dict, step: dict) -> None:
    """Append `step` (unless already there), count its tokens and put it on the timeline."""
    if any(s["n"] == step["n"] for s in agent.get("steps", [])):
        return
    step = {**step, "result": clipped(step.get("result"), RESULT_CHARS)}
    agent["steps"] = [*agent.get("steps", []), step]
    _add_usage(sweep, step.get("usage") or {})
    _save(sweep, agent)
    usage = step.get("usage") or {}
    event_emit(kind=Kind.AGENT_STEP, experiment=sweep.experiment, sweep=sweep, payload={
        "step": step["n"], "tool": step["tool"], "arguments": clipped(step.get("args"), SUMMARY_CHARS),
        "reasoning": (step.get("reasoning") or "")[:SUMMARY_CHARS], "error": step.get("error"),
        "result": clipped(step.get("result"), SUMMARY_CHARS), "duration_ms": step.get("duration_ms", 0),
        "tokens_in": usage.get("tokens_in", 0), "tokens_out": usage.get("tokens_out", 0),
        "cached": usage.get("cached", False),
    })


def step_record(*, sweep_id: Id, step: dict) -> None:
    with transaction.atomic():
        sweep = _locked(sweep_id)
        _record(sweep, agent_state(sweep), step)


def leaderboard_read(*, sweep_id: Id, top: int) -> dict:
    sweep = Sweep.objects.select_related("experiment").get(pk=sweep_id)
    total, rows = leaderboard_rows(experiment=sweep.experiment, limit=max(1, min(top, 50)))
    return {"ranked_runs": total, "rows": [
        {"rank": r.rank, "run_id": str(r.run.pk), "point": r.run.point, "weighted_score": r.weighted_score,
         "ci": list(r.weighted_ci) if r.weighted_ci else None, "tied": r.tied} for r in rows]}


def run_details(*, sweep_id: Id, run_id: str) -> dict:
    run = (Run.objects.filter(experiment__sweeps=sweep_id, pk=run_id).prefetch_related("score_summaries").first()
           if is_uuid(run_id) else None)
    if run is None:
        raise ToolRefused(f"No run {run_id!r} in this experiment.")
    outputs = run.stage_results.order_by("item_id", "repeat", "-stage_index").values_list("item_id", "response_raw",
                                                                                         "error")[:20]
    return {"run_id": str(run.pk), "status": run.status, "point": run.point, "weighted_score": run.weighted_score,
            "error": run.error[:300], "tokens": run.tokens_in + run.tokens_out,
            "scores": {s.scorer_name: {"mean": s.mean, "n": s.n} for s in run.score_summaries.all()},
            "outputs": [{"item": i, "output": (text or "")[:300], "error": err[:200]} for i, text, err in outputs]}


def batch_results(*, sweep_id: Id, run_ids: list[str]) -> list[dict]:
    runs = Run.objects.filter(sweep_id=sweep_id, pk__in=run_ids).values_list("pk", "point", "status",
                                                                              "weighted_score", "error")
    return [{"run_id": str(pk), "point": point, "status": status, "weighted_score": score,
             **({"error": error[:200]} if error else {})} for pk, point, status, score, error in runs]


def batch_run(*, sweep_id: Id, step: dict, configs: list, estimate_per_run: int) -> dict:
    """Plan `configs` (points of the sweep's space) as new runs, recording the step; refusals name why.

    Past the spend threshold not yet approved, nothing is planned: the sweep pauses for a person.
    """
    with transaction.atomic():
        sweep = _locked(sweep_id)
        agent, options = agent_state(sweep), agent_state(sweep)["options"]
        if not isinstance(configs, list) or not configs:
            raise ToolRefused("configs must be a non-empty list of configurations (axis path → value).")
        if len(configs) > options["batch_max"]:
            raise ToolRefused(f"At most {options['batch_max']} configurations per batch.")
        problems = {i: point_problems(sweep.parameter_space, point) for i, point in enumerate(configs)}
        problems = {i: p for i, p in problems.items() if p}
        if problems:
            raise ToolRefused("; ".join(f"configs[{i}]: {', '.join(p)}" for i, p in problems.items()))
        runs = Run.objects.filter(sweep=sweep)
        total = runs.count()
        start = runs.next_position()
        cap = (sweep.request or {}).get("guided", {}).get("n") or 20
        if total + len(configs) > cap:
            raise ToolRefused(f"This sweep may run {cap} configurations; {total} are planned already.")
        threshold = options.get("approve_above_tokens")
        used = sweep.tokens_in + sweep.tokens_out
        wanted = used + estimate_per_run * len(configs)
        if threshold and not agent.get("spend_approved") and wanted > threshold:
            reason = (f"The agent wants to spend past {threshold:,} tokens: {len(configs)} configurations ≈ "
                      f"{estimate_per_run * len(configs):,} tokens more ({used:,} used).")
            result = {"paused": True, "reason": reason, "next": "call run_batch again once a person approves"}
            _pause_for_review(sweep, agent, {**step, "result": result}, reason, kind="spend")
            return result
        experiment = sweep.experiment
        check = proposal_checker(experiment)
        fingerprint = samples_fingerprint(select_items(experiment=experiment, sample_ids=sweep.sample_ids))
        known = dict(runs.values_list("config_hash", "pk"))
        planned, again = [], []
        for offset, point in enumerate(configs):
            config = check(point)
            if config is None:
                raise ToolRefused(f"configs[{offset}] does not make a valid experiment configuration.")
            config_hash = run_config_hash(config=config, items_fingerprint=fingerprint, repeats=sweep.repeats)
            if config_hash in known:
                again.append(str(known[config_hash]))
                continue
            run = Run(experiment=experiment, sweep=sweep, position=start + len(planned), config=config, point=point,
                      config_hash=config_hash)
            known[config_hash] = run.pk
            planned.append(run)
        Run.objects.bulk_create(planned)
        sweep.runs_total = total + len(planned)
        result = {"planned_runs": len(planned), "run_ids": [str(r.pk) for r in planned] + again,
                  "already_run": len(again)}
        agent["batch"] = result["run_ids"]
        _record(sweep, agent, {**step, "result": result})
        return result


def _pause_for_review(sweep: Sweep, agent: dict, step: dict, reason: str, *, kind: str) -> None:
    """Pause the sweep, say why on the timeline (`human_needed`) and wait for a person's approval."""
    agent["pending"] = {"kind": kind, "step": step["n"], "reason": reason, "approval": None}
    _record(sweep, agent, step)
    paused = sweep_transition(sweep_id=sweep.pk, to=Sweep.Status.PAUSED, only_from=[Sweep.Status.RUNNING],
                              pause_reason=reason[:REASON_CHARS])
    if paused is not None:
        event_emit(kind=Kind.SWEEP_PAUSED, experiment=sweep.experiment, sweep=sweep, payload={"reason": reason})
    experiment = sweep.experiment
    event_emit(kind=Kind.HUMAN_NEEDED, experiment=experiment, sweep=sweep, payload={
        "reason": reason, "experiment_id": str(experiment.pk), "experiment": experiment.name,
        "sweep_id": str(sweep.pk), "approve": f"/api/v1/sweeps/{sweep.pk}/approve-continue"})


def review_request(*, sweep_id: Id, step: dict, reason: str) -> dict:
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ToolRefused("Say what the person should look at (reason).")
    with transaction.atomic():
        sweep = _locked(sweep_id)
        result = {"paused": True, "waiting_for": "a person's approval"}
        _pause_for_review(sweep, agent_state(sweep), {**step, "result": result}, reason, kind="review")
        return result


def finish(*, sweep_id: Id, step: dict, summary: str) -> dict:
    summary = (summary or "").strip()[:4000] or "The agent finished without a summary."
    with transaction.atomic():
        sweep = _locked(sweep_id)
        agent = agent_state(sweep)
        agent["done"], agent["summary"] = True, summary
        _record(sweep, agent, {**step, "result": {"summary": summary}})
        best = leaderboard_read(sweep_id=sweep_id, top=1)["rows"]
        event_emit(kind=Kind.AGENT_FINISHED, experiment=sweep.experiment, sweep=sweep, payload={
            "summary": summary, "steps": len(agent["steps"]), "best": best[0] if best else None})
        return {"summary": summary}

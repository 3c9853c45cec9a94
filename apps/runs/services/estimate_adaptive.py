"""Estimates of adaptive sweeps: the calls their planner makes at least and at most, priced per call.

An adaptive planner decides what runs from the scores, so its plan cannot be walked call by call as a
grid's is. Its own `call_bounds` says how many runs and calls it makes at least and at most (and its
planner's LLM calls); a sample of configurations like the ones it will run is walked exactly as a grid's
plan is (rendered prompts, the same calibration, cache hits free), and its cost per call prices those
bounds (docs/estimates.md, "Adaptive sweeps").
"""

from __future__ import annotations

import dataclasses

from apps.core.types import Id
from apps.endpoints.specs import endpoint_specs_for_configs
from apps.engine.planners import PLANNERS, get_planner
from apps.engine.planners.base import CallBounds, PlannerCalls, SweepShape
from apps.engine.planners.space import parse_space, space_size
from apps.runs.services.calibration import TokenModel, prompt_chars
from apps.runs.services.estimate import Estimate, calibration_entries, plan_estimate, token_models
from apps.runs.services.planning import Plan, planned_runs, samples_fingerprint

DEFAULT_CONFIGURATIONS = 20  # an adaptive sweep's n when the request gives none (sweep_start's default)
SAMPLE_SIZE = 16
BOUNDS = ("low", "expected", "high")


def first_batch(kind: str, *, n: int | None, batch: int | None) -> int | None:
    """The n an adaptive sweep's start plans its first batch with (as sweep_start does)."""
    return min(n or batch or 4, batch or 4) if PLANNERS.get(kind).batched else n


def adaptive_estimate(*, plan: Plan, owner_id: Id, configurations: int | None = None) -> Estimate:
    """The estimate of an adaptive sweep planned by `sweep_plan` (its first batch, or none), which may run
    `configurations` in all."""
    planner = get_planner(plan.kind, plan.options)
    shape = SweepShape(n=configurations or DEFAULT_CONFIGURATIONS, items=plan.items, repeats=plan.repeats,
                       stages=plan.base["stages"], space=plan.parameter_space,
                       space_size=space_size(parse_space(plan.parameter_space)), state=plan.state)
    points = planner.sample_points(shape, size=SAMPLE_SIZE) or [{}]
    sample = Plan(kind=plan.kind, items=plan.items, repeats=plan.repeats, parameter_space=plan.parameter_space,
                  base=plan.base, runs=planned_runs(base=plan.base, points=points,
                                                    items_fingerprint=samples_fingerprint(plan.items),
                                                    repeats=plan.repeats))
    cached = plan_estimate(plan=sample, owner_id=owner_id)
    fresh = plan_estimate(plan=sample, owner_id=owner_id, use_cache=False)
    shape = dataclasses.replace(shape, reply_chars=_reply_chars(sample, owner_id))
    bounds = planner.call_bounds(shape)
    return _priced(bounds, shape=shape, sample_calls=max(1, sample.calls), cached=cached, fresh=fresh,
                   planner=_planner_spend(bounds.planner, owner_id=owner_id))


def _reply_chars(sample: Plan, owner_id: Id) -> int:
    """The expected length of the pipeline's final reply (what a proposer reads as an item's output)."""
    stage = sample.runs[0].config["stages"][-1]
    pair = (str(stage["endpoint"]), stage["model"])
    specs = endpoint_specs_for_configs([{"stages": [stage]}])
    if pair[0] not in specs:
        return 1000
    max_tokens = (stage.get("params") or {}).get("max_tokens")
    max_tokens = int(max_tokens) if isinstance(max_tokens, int | float) and max_tokens > 0 else None
    return token_models({pair}, specs, owner_id)[pair].output_chars(max_tokens)


def _per_call(estimate: Estimate, calls: int) -> dict[str, dict[str, float]]:
    return {"in": {b: estimate.tokens_in_range[b] / calls for b in BOUNDS},
            "out": {b: estimate.tokens_out_range[b] / calls for b in BOUNDS},
            "cost": {b: estimate.cost_usd_range[b] / calls for b in BOUNDS}}


def _priced(bounds: CallBounds, *, shape: SweepShape, sample_calls: int, cached: Estimate, fresh: Estimate,
            planner: dict | None) -> Estimate:
    """Calls like the sample's are priced as the sample's (its cache hits free; the upper end as if none were
    cached); calls of new configurations and the planner's own are priced uncached."""
    like, new = _per_call(cached, sample_calls), _per_call(fresh, sample_calls)
    per_run = shape.calls_per_run
    new_calls = {"low": bounds.new_runs[0] * per_run, "high": bounds.new_runs[1] * per_run}
    sampled = {"low": bounds.calls[0] - bounds.repeated - new_calls["low"],
               "high": bounds.calls[1] - bounds.repeated - new_calls["high"]}
    count = {"low": "low", "expected": "high", "high": "high"}  # the expected sweep uses all it may
    totals = {}
    for part in ("in", "out", "cost"):
        totals[part] = {b: max(0, sampled[count[b]]) * (new if b == "high" else like)[part][b]
                        + new_calls[count[b]] * new[part][b] for b in BOUNDS}
        if planner is not None:
            for b in BOUNDS:
                totals[part][b] += planner[part][b]
    cached_calls = bounds.repeated + round(max(0, sampled["high"]) * cached.cached_calls / sample_calls)
    tokens = {b: totals["in"][b] + totals["out"][b] for b in BOUNDS}
    cost = {b: round(totals["cost"][b], 6) for b in BOUNDS}
    calibration = {(entry["endpoint"], entry["model"]): entry for entry in cached.calibration}
    for entry in (planner or {}).get("calibration", []):
        calibration.setdefault((entry["endpoint"], entry["model"]), entry)
    return Estimate(
        runs=bounds.runs[1], calls=bounds.calls[1], cached_calls=cached_calls,
        uncached_calls=bounds.calls[1] - cached_calls, tokens_in=round(totals["in"]["expected"]),
        tokens_out=round(totals["out"]["expected"]), cost_usd=cost["expected"],
        tokens={b: round(v) for b, v in tokens.items()},
        tokens_in_range={b: round(v) for b, v in totals["in"].items()},
        tokens_out_range={b: round(v) for b, v in totals["out"].items()}, cost_usd_range=cost,
        calibration=[calibration[key] for key in sorted(calibration)], adaptive=True,
        runs_range={"low": bounds.runs[0], "high": bounds.runs[1]},
        calls_range={"low": bounds.calls[0], "high": bounds.calls[1]},
        planner=None if planner is None else {
            "calls": planner["calls"],
            "tokens": {b: round(planner["in"][b] + planner["out"][b]) for b in BOUNDS},
            "cost_usd_range": {b: round(planner["cost"][b], 6) for b in BOUNDS}})


def _planner_spend(calls: tuple[PlannerCalls, ...], *, owner_id: Id) -> dict | None:
    """Tokens and cost of the planner's own calls, priced uncached: the prompts depend on scores not known yet."""
    if not calls:
        return None
    specs = endpoint_specs_for_configs([{"stages": [{"endpoint": c.endpoint} for c in calls]}])
    calls = tuple(c for c in calls if str(c.endpoint) in specs)  # a foreign or deleted one is refused at start
    models = token_models({(str(c.endpoint), c.model) for c in calls}, specs, owner_id)
    spend = {part: dict.fromkeys(BOUNDS, 0.0) for part in ("in", "out", "cost")}
    made = {"low": 0, "high": 0}
    for call in calls:
        tokens: TokenModel = models[(str(call.endpoint), call.model)]
        for b, count in (("low", call.calls[0]), ("expected", call.calls[1]), ("high", call.calls[1])):
            sent = call.smallest if b == "low" and call.smallest is not None else call.messages
            chars, messages = prompt_chars(sent), len(sent)
            # Call i's prompt is the first's plus i steps of growth (an agent's history).
            total_chars = count * chars + call.growth_chars * count * (count - 1) // 2
            tokens_in = tokens.prompt_tokens(total_chars, count * messages)[BOUNDS.index(b)]
            tokens_out = count * tokens.output_tokens(call.max_tokens)[BOUNDS.index(b)]
            spend["in"][b] += tokens_in
            spend["out"][b] += tokens_out
            spend["cost"][b] += specs[str(call.endpoint)].cost_usd(call.model, tokens_in, tokens_out)
        made["low"] += call.calls[0]
        made["high"] += call.calls[1]
    return {**spend, "calls": made, "calibration": calibration_entries(models)}

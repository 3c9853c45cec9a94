"""Agent sweep: an LLM agent (a looplet loop) reads results and proposes the configurations to run.

The planner itself plans nothing up front: the sweep's driver runs the agent between batches
(apps/runs/services/agent_sweep.py). What lives here is plain Python: the options, and the check
that a configuration the agent proposes is a point of the sweep's parameter space.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .base import DEFAULT_MAX_POINTS, CallBounds, Plan, PlanError, Planner, PlannerCalls, SweepShape, resolve_seed
from .space import RangeAxis, parse_space, space_size

STATE_VERSION = 1
MAX_GOAL_CHARS = 4000
DEFAULTS: dict[str, Any] = {
    "goal": "Find the configuration with the highest weighted score while spending as little as possible.",
    "max_steps": 20, "batch_max": 8, "approve_above_tokens": None, "temperature": 0.2, "max_tokens": 1024,
}
# The agent's prompt as looplet sends it, measured with looplet 0.4.1: a system prompt of ~380 characters, then
# ~950 of framing and tool descriptions around the goal and the space; each step taken added ~335 more with
# batches of one or two configurations (400 leaves room for larger ones).
PROMPT_SYSTEM_CHARS, PROMPT_FRAME_CHARS, STEP_CHARS = 380, 950, 400
BOUNDS = {"max_steps": (1, 200), "batch_max": (1, 64), "approve_above_tokens": (1, 10**12), "max_tokens": (16, 32768)}


def _whole(name: str, value: Any) -> int:
    low, high = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError(f"{name} must be a whole number from {low:,} to {high:,}.", field=f"options.{name}")
    return value


def _text(name: str, value: Any, *, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{name} must be a non-empty string.", field=f"options.{name}")
    if len(value) > limit:
        raise PlanError(f"{name} is longer than {limit:,} characters.", field=f"options.{name}")
    return value.strip()


def options_check(options: Any) -> dict:
    """The agent's options with defaults filled in; PlanError naming `options.<name>` otherwise."""
    if not isinstance(options, dict):
        raise PlanError("options must be an object.", field="options")
    unknown = sorted(set(options) - set(DEFAULTS) - {"endpoint", "model"})
    if unknown:
        raise PlanError(f"An agent sweep takes no option {unknown[0]!r}.", field=f"options.{unknown[0]}")
    for required in ("endpoint", "model"):
        if options.get(required) in (None, ""):
            raise PlanError(f"An agent sweep needs options.{required}: the agent's LLM.", field=f"options.{required}")
    checked = {**DEFAULTS, "endpoint": _text("endpoint", options["endpoint"], limit=100),
               "model": _text("model", options["model"], limit=200)}
    if "goal" in options:
        checked["goal"] = _text("goal", options["goal"], limit=MAX_GOAL_CHARS)
    for name in ("max_steps", "batch_max", "max_tokens"):
        if name in options:
            checked[name] = _whole(name, options[name])
    if options.get("approve_above_tokens") is not None:
        checked["approve_above_tokens"] = _whole("approve_above_tokens", options["approve_above_tokens"])
    if "temperature" in options:
        t = options["temperature"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 2:
            raise PlanError("temperature must be a number from 0 to 2.", field="options.temperature")
        checked["temperature"] = float(t)
    return checked


def point_problems(space: list[dict], point: Any) -> list[str]:
    """Why `point` is not a point of `space` (every axis set, each value one of the axis's); [] when it is."""
    if not isinstance(point, dict):
        return ["a configuration must be an object of axis path → value"]
    axes = {axis.path: axis for axis in parse_space(space)}
    problems = [f"{path}: not an axis of this sweep (axes: {', '.join(axes)})" for path in point if path not in axes]
    for path, axis in axes.items():
        if path not in point:
            problems.append(f"{path}: missing")
        elif not _on_axis(axis, point[path]):
            problems.append(f"{path}: {point[path]!r} is not one of this axis's values")
    return problems


def _on_axis(axis, value: Any) -> bool:
    if isinstance(axis, RangeAxis) and axis.size is None:
        number = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        return number and axis.low <= value <= axis.high and (not axis.integral or float(value).is_integer())
    return axis.index_of(value) is not None


class AgentPlanner(Planner):
    """Adaptive, but driven by its own step (the agent loop) rather than ask/tell; `plan` plans no
    runs and returns the checked options as the state, from which the agent starts."""

    kind = "agent"
    adaptive = True

    @classmethod
    def options_validate(cls, options: dict) -> dict:
        return options_check(options)

    def call_bounds(self, shape: SweepShape) -> CallBounds:
        """At most n configurations (no more than `max_steps` batches of `batch_max` can hold) and one LLM
        call a step; at least one batch and two calls (run it, finish)."""
        options = self.options
        most = min(shape.n, options["max_steps"] * options["batch_max"])
        if shape.space_size is not None:
            most = min(most, shape.space_size)
        runs = (min(most, options["batch_max"]), most)
        prompt = options["goal"] + json.dumps(shape.space, ensure_ascii=False, default=str)
        messages = [{"role": "system", "content": "x" * PROMPT_SYSTEM_CHARS},
                    {"role": "user", "content": prompt + "x" * PROMPT_FRAME_CHARS}]
        agent = PlannerCalls(endpoint=options["endpoint"], model=options["model"],
                             calls=(min(2, options["max_steps"]), options["max_steps"]), messages=messages,
                             max_tokens=options["max_tokens"], growth_chars=STEP_CHARS)
        return CallBounds(runs=runs, calls=(runs[0] * shape.calls_per_run, runs[1] * shape.calls_per_run),
                          planner=(agent,))

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        axes = parse_space(space)
        return Plan([], kind=self.kind, seed=resolve_seed(seed), space_size=space_size(axes),
                    state={"version": STATE_VERSION, "options": self.options})

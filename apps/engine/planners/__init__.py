"""Sweep strategies by kind; each is imported on first use (a new strategy is one file plus one line)."""

from __future__ import annotations

from apps.engine.registry import Registry

from .base import DEFAULT_MAX_POINTS, Plan, PlanError, Planner

PLANNERS: Registry[Planner] = Registry("sweep kind", {
    "grid": "apps.engine.planners.grid.GridPlanner",
    "random": "apps.engine.planners.random_search.RandomPlanner",
    "guided": "apps.engine.planners.guided.GuidedPlanner",
    "tpe": ("apps.engine.planners.tpe.TpePlanner", "TPE (Bayesian)"),
    "halving": ("apps.engine.planners.halving.HalvingPlanner", "Successive halving"),
    "agent": ("apps.engine.planners.agent.AgentPlanner", "Agent"),
    "prompt_search": ("apps.engine.planners.prompt_search.PromptSearchPlanner", "Prompt search"),
})

__all__ = ["DEFAULT_MAX_POINTS", "PLANNERS", "Plan", "PlanError", "Planner", "get_planner", "planner_for",
           "redirect_kinds"]


def get_planner(kind: str, options: dict | None = None) -> Planner:
    """A planner instance for `kind` with its `options` validated; PlanError (field "kind", "options.<name>")."""
    if kind not in PLANNERS:
        raise PlanError(f"Unknown sweep kind {kind!r}; choose one of: {', '.join(PLANNERS)}.", field="kind")
    return PLANNERS.get(kind)(options)


def planner_for(kind: str) -> type[Planner] | None:
    """The planner class of a sweep kind, or None for a kind no planner plans (an ad-hoc "single" run)."""
    return PLANNERS.get(kind) if kind in PLANNERS else None


def redirect_kinds() -> list[str]:
    """The kinds whose plan can replace the unstarted remainder of a running sweep."""
    return [kind for kind in PLANNERS if PLANNERS.get(kind).redirectable]

"""Sweep strategies by kind; each is imported on first use (a new strategy is one file plus one line)."""

from __future__ import annotations

from importlib import import_module

from .base import DEFAULT_MAX_POINTS, Plan, PlanError, Planner

PLANNERS = {
    "grid": "apps.engine.planners.grid.GridPlanner",
    "random": "apps.engine.planners.random_search.RandomPlanner",
    "guided": "apps.engine.planners.guided.GuidedPlanner",
}

__all__ = ["DEFAULT_MAX_POINTS", "PLANNERS", "Plan", "PlanError", "Planner", "get_planner"]


def get_planner(kind: str) -> Planner:
    """A planner instance for `kind`; PlanError (field "kind") for an unknown kind."""
    dotted = PLANNERS.get(kind) if isinstance(kind, str) else None
    if dotted is None:
        raise PlanError(f"Unknown sweep kind {kind!r}; choose one of: {', '.join(PLANNERS)}.", field="kind")
    module, name = dotted.rsplit(".", 1)
    return getattr(import_module(module), name)()

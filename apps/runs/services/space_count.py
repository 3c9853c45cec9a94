"""How many configurations and calls a grid sweep over a parameter space plans (the builder's live count)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.core.errors import InvalidInput
from apps.core.models import SystemSettings
from apps.engine.planners import PlanError, get_planner
from apps.engine.planners.space import parse_space


@dataclass(frozen=True)
class SpaceCount:
    axis_sizes: tuple[int, ...]
    configs: int
    items: int
    repeats: int
    stages: int
    limit: int

    @property
    def calls_per_stage(self) -> int:
        return self.configs * self.items * self.repeats

    @property
    def calls(self) -> int:
        return self.calls_per_stage * self.stages

    @property
    def over_limit(self) -> bool:
        return self.calls > self.limit


def space_count(*, parameter_space: list, items: int, repeats: int, stages: int) -> SpaceCount:
    """What a grid sweep of this space would plan, with the same planner and point limit as `sweep_plan`.

    InvalidInput (keyed like the sweep's errors) when the grid planner cannot plan the space.
    """
    limit = SystemSettings.load().max_calls_per_sweep or settings.MAX_CALLS_PER_SWEEP
    per_config = max(items, 1) * repeats * max(stages, 1)
    try:
        points = get_planner("grid").plan(parameter_space, max_points=max(1, limit // per_config))
    except PlanError as exc:
        message = str(exc)
        if "limit" in message:
            message += (f" A sweep may make at most {limit:,} LLM calls and each configuration here costs "
                        f"{per_config:,} ({items} items × {repeats} repeats × {stages} stages).")
        raise InvalidInput(errors={exc.field: [message]}) from exc
    sizes = tuple(axis.size for axis in parse_space(parameter_space))
    return SpaceCount(axis_sizes=sizes, configs=len(points), items=items, repeats=repeats, stages=stages,
                      limit=limit)

"""Grid sweep: the cartesian product of every axis, in axis order (the last axis varies fastest)."""

from __future__ import annotations

import itertools

from .base import DEFAULT_MAX_POINTS, Plan, PlanError, Planner
from .space import parse_space, space_size


class GridPlanner(Planner):
    """Every combination; `n` and `seed` are ignored. An empty space is one point: the base config."""

    kind = "grid"
    redirectable = True

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        axes = parse_space(space)
        for index, axis in enumerate(axes):
            if not axis.griddable:
                raise PlanError(
                    f"{axis.path}: a grid needs 'values' or a range with a 'step'.",
                    field=f"parameter_space.{index}", axis=axis.path,
                )
        total = space_size(axes)
        if total > max_points:
            largest = max(axes, key=lambda axis: axis.size)
            raise PlanError(
                f"grid has {total:,} points; the limit is {max_points:,} "
                f"(largest axis: {largest.path} with {largest.size:,} values).",
                axis=largest.path,
            )
        paths = [axis.path for axis in axes]
        columns = [[axis.value_at(i) for i in range(axis.size)] for axis in axes]
        points = [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*columns)]
        return Plan(points, kind=self.kind, space_size=total)

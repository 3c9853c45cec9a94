"""Random sweep: n distinct points drawn with a seeded generator (same seed, same points)."""

from __future__ import annotations

import random

from .base import DEFAULT_MAX_POINTS, Plan, Planner, gc_paused, requested_count, resolve_seed
from .space import parse_space, sample_distinct_points, space_size


class RandomPlanner(Planner):
    """Values uniformly, ranges by their distribution, stepped ranges from their grid points.

    A space with fewer than n distinct points yields all of them; `plan.short` and `plan.note`
    say so.
    """

    kind = "random"
    needs_n = True
    redirectable = True

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        axes = parse_space(space)
        n = requested_count(n, max_points=max_points, what="random")
        seed = resolve_seed(seed)
        with gc_paused():
            points = sample_distinct_points(axes, n, random.Random(seed))
        return Plan(points, kind=self.kind, seed=seed, requested=n, space_size=space_size(axes))

"""Guided sweep: ask for points, tell their scores, get neighbours of the best ones next.

The search starts with a few seeded random points, then mutates one of the top-scoring points:
explicit values switch to another value (untried ones first), stepped ranges move to an adjacent
grid point and sampled ranges take a Gaussian step whose width shrinks as scores come in. A point
is never proposed twice, and `ask` returns fewer points (or none) once the space is used up.

Every random choice comes from a generator seeded by (seed, ask number, trials so far), so the
whole search is a function of the seed and the sequence of asks and tells, and its state is plain
JSON that a driver can store between batches (`to_state` / `from_state`).
"""

from __future__ import annotations

import copy
import heapq
import math
import random
from typing import Any

from .base import DEFAULT_MAX_POINTS, Plan, PlanError, Planner, resolve_seed
from .space import parse_space, point_key, sample_new_points, space_size

STATE_VERSION = 1
EXPLORE_PROBABILITY = 0.1
INITIAL_SPREAD = 0.25
SPREAD_DECAY = 0.85
MIN_SPREAD = 0.01
PARENT_WEIGHTS = (0.6, 0.25, 0.15)
NEIGHBOUR_ATTEMPTS = 40


def default_initial_points(axis_count: int) -> int:
    return min(max(2 * axis_count + 1, 3), 10)


class GuidedSearch:
    """Ask/tell search over one parameter space; see the module docstring for the strategy."""

    def __init__(
        self, space: list[dict], *, seed: int | None = None, max_points: int = DEFAULT_MAX_POINTS,
        initial_points: int | None = None,
    ) -> None:
        self.space = list(space or [])
        self.axes = parse_space(self.space)
        self.seed = resolve_seed(seed)
        self.max_points = max_points
        self.initial_points = initial_points or default_initial_points(len(self.axes))
        self.asks = 0
        self.trials: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._seen: set[str] = set()
        self._tried: dict[str, set[str]] = {axis.path: set() for axis in self.axes}
        self._scored = 0
        self._top: list[int] = []  # indices of the best-scoring trials, best first

    @property
    def space_size(self) -> int | None:
        return space_size(self.axes)

    @property
    def exhausted(self) -> bool:
        """True when every point of the space (or max_points of them) has been proposed."""
        size = self.space_size
        return len(self.trials) >= self.max_points or (size is not None and len(self._seen) >= size)

    def best(self) -> tuple[dict, float] | None:
        ranked = self._ranked()
        return (ranked[0]["point"], ranked[0]["score"]) if ranked else None

    def ask(self, k: int = 1) -> list[dict]:
        """Up to k new points; fewer, or none, when the space or max_points is used up."""
        rng = random.Random(f"guided:{self.seed}:{self.asks}:{len(self.trials)}")
        self.asks += 1
        ranked = self._ranked()
        proposals: list[dict] = []
        for _ in range(max(0, min(k, self.max_points - len(self.trials)))):
            point = self._propose(rng, ranked)
            if point is None:
                break
            self._record(point, score=None, told=False)
            proposals.append(point)
        return proposals

    def tell(self, point: dict, score: float | None) -> None:
        """Record a point's score (None for a failed run); a later tell for the same point wins."""
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
                raise ValueError(f"score must be a finite number or None, not {score!r}")
            score = float(score)
        index = self._index.get(point_key(point))
        if index is None:
            self._record(dict(point), score=score, told=True)
        else:
            self.trials[index]["told"] = True
            self._set_score(index, score)

    def to_state(self) -> dict:
        return copy.deepcopy({
            "version": STATE_VERSION, "space": self.space, "seed": self.seed, "max_points": self.max_points,
            "initial_points": self.initial_points, "asks": self.asks, "trials": self.trials,
        })

    @classmethod
    def from_state(cls, state: dict) -> GuidedSearch:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise PlanError("This guided search state is from an unknown version.", field="state")
        try:
            search = cls(state["space"], seed=state["seed"], max_points=state["max_points"],
                         initial_points=state["initial_points"])
            search.asks = state["asks"]
            for trial in state["trials"]:
                search._record(trial["point"], score=trial["score"], told=trial["told"])
        except (KeyError, TypeError) as exc:
            raise PlanError(f"This guided search state is damaged ({exc!r}).", field="state") from exc
        return search

    def _record(self, point: dict, *, score: float | None, told: bool) -> None:
        key = point_key(point)
        self._index[key] = len(self.trials)
        self._seen.add(key)
        for path, tried in self._tried.items():
            tried.add(point_key(point.get(path)))
        self.trials.append({"point": point, "score": None, "told": told})
        self._set_score(len(self.trials) - 1, score)

    def _set_score(self, index: int, score: float | None) -> None:
        trial = self.trials[index]
        self._scored += (score is not None) - (trial["score"] is not None)
        trial["score"] = score
        if index in self._top:
            # A leader's score changed: rebuild the leaders from scratch (rare: a re-told point).
            scored = (i for i, t in enumerate(self.trials) if t["score"] is not None)
            self._top = heapq.nsmallest(len(PARENT_WEIGHTS), scored, key=self._rank_key)
        elif score is not None:
            self._top = sorted([*self._top, index], key=self._rank_key)[: len(PARENT_WEIGHTS)]

    def _rank_key(self, index: int) -> tuple[float, int]:
        # Equal scores rank in the order the points were proposed.
        return -self.trials[index]["score"], index

    def _ranked(self) -> list[dict]:
        return [self.trials[i] for i in self._top]

    def _spread(self, scored: int) -> float:
        return max(INITIAL_SPREAD * SPREAD_DECAY ** max(0, scored - self.initial_points), MIN_SPREAD)

    def _random(self, rng: random.Random) -> dict | None:
        found = sample_new_points(self.axes, 1, rng, self._seen)
        return found[0] if found else None

    def _propose(self, rng: random.Random, ranked: list[dict]) -> dict | None:
        explore = not self.axes or len(self.trials) < self.initial_points or not ranked
        if explore or rng.random() < EXPLORE_PROBABILITY:
            return self._random(rng)
        weights = PARENT_WEIGHTS[: len(ranked)]
        spread = self._spread(self._scored)
        for _ in range(NEIGHBOUR_ATTEMPTS):
            parent = rng.choices(ranked, weights=weights)[0]["point"]
            point = self._neighbour(parent, rng, spread)
            if point_key(point) not in self._seen:
                return point
        # The best points' neighbourhoods are used up: jump somewhere new instead.
        return self._random(rng)

    def _neighbour(self, parent: dict, rng: random.Random, spread: float) -> dict:
        # Each axis moves with probability 1/d, and at least one always moves.
        moving = {axis.path for axis in self.axes if rng.random() < 1 / len(self.axes)}
        if not moving:
            moving = {rng.choice(self.axes).path}
        point = {}
        for axis in self.axes:
            if axis.path not in parent:
                point[axis.path] = axis.sample(rng)
            elif axis.path in moving:
                tried = self._tried[axis.path]
                point[axis.path] = axis.nudge(parent[axis.path], rng, spread=spread, tried=tried)
            else:
                point[axis.path] = parent[axis.path]
        return point


class GuidedPlanner(Planner):
    """`plan` returns the first batch (n points, default a few random ones) and the search state in
    `plan.state`; continue with `GuidedSearch.from_state(plan.state)`, `tell` and `ask`."""

    kind = "guided"
    adaptive = True
    needs_n = True

    @classmethod
    def search_from_state(cls, state: dict) -> GuidedSearch:
        return GuidedSearch.from_state(state)

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        search = GuidedSearch(space, seed=seed, max_points=max_points)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise PlanError("n, the size of the first batch, must be a whole number ≥ 1.", field="n")
        points = search.ask(n or search.initial_points)
        return Plan(points, kind=self.kind, seed=search.seed, requested=n, space_size=search.space_size,
                    state=search.to_state())

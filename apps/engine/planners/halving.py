"""Successive halving over sample items: every configuration runs on a few items, the best 1/eta go on.

The configurations are the grid over the space (or n sampled, seeded). Rung 0 runs all of them on a
small item subset; after each rung the best ceil(1/eta) by weighted score are promoted to the next,
larger subset, until the survivors have run on every item. Subsets are a seeded shuffle's prefixes,
so they are nested (rung k+1 holds rung k's items) and a promoted configuration's earlier items come
from the response cache for free. A promotion is a new run (same point, more items): runs stay
immutable, and each rung's run has its own config hash because its items differ.

The whole search is plain JSON (`to_state` / `from_state`), a function of the seed and the scores told.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass

from .base import DEFAULT_MAX_POINTS, CallBounds, Plan, PlanError, Planner, SweepShape, resolve_seed
from .grid import GridPlanner
from .random_search import RandomPlanner

STATE_VERSION = 1
DEFAULT_ETA = 3
DEFAULT_MIN_ITEMS = 2
MAX_ETA = 100


def rung_sizes(*, items: int, configs: int, eta: int, min_items: int) -> list[int]:
    """Items per rung, strictly increasing, the last being all `items`.

    As many rungs as halvings that leave more than one configuration (1 + floor(log_eta(configs))),
    rung k on items / eta^(last-k) items (rounded up, at least min_items); equal sizes merge.
    """
    rungs = 1
    while eta**rungs <= configs:
        rungs += 1
    sizes: list[int] = []
    for k in range(rungs):
        size = min(items, max(min_items, math.ceil(items / eta ** (rungs - 1 - k))))
        if not sizes or size > sizes[-1]:
            sizes.append(size)
    return sizes


def survivors(count: int, eta: int) -> int:
    return max(1, math.ceil(count / eta))


@dataclass(frozen=True)
class Trial:
    """One configuration to run on one rung; `sample_ids` None means every item."""

    index: int
    point: dict
    rung: int
    sample_ids: list[str] | None


class HalvingSearch:
    """The rung-by-rung search; `start(item_ids)` once, then `ask()` a rung, `tell` its scores, `ask()` again."""

    def __init__(self, *, configs: list[dict], seed: int, eta: int = DEFAULT_ETA,
                 min_items: int = DEFAULT_MIN_ITEMS) -> None:
        self.configs = list(configs)
        self.seed = seed
        self.eta = eta
        self.min_items = min_items
        self.items: list[str] | None = None  # the item ids in their seeded order, once started
        self.sizes: list[int] = []
        self.rung = -1  # the rung asked last (-1: none yet)
        self.alive: list[int] = []
        self.scores: dict[int, dict[int, float | None]] = {}  # rung → config index → weighted score

    @property
    def started(self) -> bool:
        return self.items is not None

    @property
    def finished(self) -> bool:
        return self.started and self.rung == len(self.sizes) - 1 and all(
            i in self.scores.get(self.rung, {}) for i in self.alive)

    def start(self, item_ids: list[str]) -> None:
        """Fix the item order (a shuffle seeded by the sweep's seed) and the rung sizes."""
        if not item_ids:
            raise PlanError("A halving sweep needs sample items.", field="sample_ids")
        order = [str(i) for i in item_ids]
        random.Random(f"halving:{self.seed}").shuffle(order)
        self.items = order
        self.sizes = rung_sizes(items=len(order), configs=len(self.configs), eta=self.eta,
                                min_items=min(self.min_items, len(order)))

    def rung_items(self, rung: int) -> list[str] | None:
        """The rung's item ids (a prefix of the seeded order); None for the last rung: every item."""
        return None if rung == len(self.sizes) - 1 else self.items[: self.sizes[rung]]

    def rung_of(self, item_count: int | None) -> int | None:
        if item_count is None:
            return len(self.sizes) - 1
        return self.sizes.index(item_count) if item_count in self.sizes else None

    def ask(self) -> list[Trial]:
        """The next rung's trials: rung 0 runs every configuration, later rungs the promoted ones; [] when done."""
        if not self.started:
            raise PlanError("The halving search has not been started with the sample items.", field="state")
        if self.rung == -1:
            self.alive = list(range(len(self.configs)))
        elif self.rung >= len(self.sizes) - 1:
            return []
        else:
            told = self.scores.get(self.rung, {})
            ranked = sorted(self.alive, key=lambda i: (told.get(i) is None, -(told.get(i) or 0.0), i))
            self.alive = sorted(ranked[: survivors(len(self.alive), self.eta)])
        self.rung += 1
        sample_ids = self.rung_items(self.rung)
        return [Trial(index=i, point=self.configs[i], rung=self.rung, sample_ids=sample_ids) for i in self.alive]

    def tell(self, index: int, score: float | None, *, rung: int | None = None) -> None:
        """A configuration's weighted score on a rung (the current one by default); None for a failed run."""
        if score is not None and (isinstance(score, bool) or not math.isfinite(score)):
            raise ValueError(f"score must be a finite number or None, not {score!r}")
        self.scores.setdefault(self.rung if rung is None else rung, {})[index] = score

    def best(self) -> tuple[dict, float] | None:
        """The best configuration on the highest rung that has a score."""
        for rung in sorted(self.scores, reverse=True):
            scored = [(s, -i) for i, s in self.scores[rung].items() if s is not None]
            if scored:
                score, neg = max(scored)
                return self.configs[-neg], score
        return None

    def planned_calls(self, *, per_item: int) -> int:
        """Calls the whole schedule makes, cached ones included (a run's calls cover all its items)."""
        count, total = len(self.configs), 0
        for size in self.sizes:
            total += count * size * per_item
            count = survivors(count, self.eta)
        return total

    def to_state(self) -> dict:
        return copy.deepcopy({
            "version": STATE_VERSION, "configs": self.configs, "seed": self.seed, "eta": self.eta,
            "min_items": self.min_items, "items": self.items, "sizes": self.sizes, "rung": self.rung,
            "alive": self.alive,
            "scores": [[rung, index, score] for rung, told in sorted(self.scores.items())
                       for index, score in sorted(told.items())],
        })

    @classmethod
    def from_state(cls, state: dict) -> HalvingSearch:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise PlanError("This halving search state is from an unknown version.", field="state")
        try:
            search = cls(configs=state["configs"], seed=state["seed"], eta=state["eta"],
                         min_items=state["min_items"])
            search.items, search.sizes = state["items"], list(state["sizes"])
            search.rung, search.alive = state["rung"], list(state["alive"])
            for rung, index, score in state["scores"]:
                search.scores.setdefault(rung, {})[index] = score
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"This halving search state is damaged ({exc!r}).", field="state") from exc
        return search


def _whole_number(options: dict, name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PlanError(f"{name} must be a whole number from {low} to {high:,}.", field=f"options.{name}")
    return value


class HalvingPlanner(Planner):
    """`plan` draws the configurations (the grid, or n sampled with the seed) and returns no runs: the
    driver's step (apps.runs.services.halving) starts the search with the sweep's items and plans each rung."""

    kind = "halving"
    adaptive = True
    batched = False
    redirect_refusal = ("A halving sweep promotes configurations rung by rung from their scores on the same "
                        "items; replacing its plan midway would compare runs on different items. Stop it and "
                        "start a new sweep instead.")

    @classmethod
    def options_validate(cls, options: dict) -> dict:
        if not isinstance(options, dict):
            raise PlanError("options must be an object.", field="options")
        for name in options:
            if name not in ("eta", "min_items"):
                raise PlanError(f"A halving sweep takes the options eta and min_items, not {name!r}.",
                                field=f"options.{name}")
        return {"eta": _whole_number(options, "eta", DEFAULT_ETA, 2, MAX_ETA),
                "min_items": _whole_number(options, "min_items", DEFAULT_MIN_ITEMS, 1, 100_000)}

    @classmethod
    def search_from_state(cls, state: dict) -> HalvingSearch:
        return HalvingSearch.from_state(state)

    def call_bounds(self, shape: SweepShape) -> CallBounds:
        """The whole schedule, exactly: every rung's configurations on its items. A promoted run's items of
        the earlier rung are the sweep's own earlier calls (`repeated`: the cache answers them)."""
        configs = len((shape.state or {}).get("configs") or []) or min(shape.n, shape.space_size or shape.n)
        per_item = shape.repeats * len(shape.stages)
        sizes = rung_sizes(items=len(shape.items), configs=configs, eta=self.options["eta"],
                           min_items=min(self.options["min_items"], len(shape.items)))
        runs = calls = repeated = 0
        count, previous = configs, 0
        for size in sizes:
            runs += count
            calls += count * size * per_item
            repeated += count * previous * per_item
            count, previous = survivors(count, self.options["eta"]), size
        return CallBounds(runs=(runs, runs), calls=(calls, calls), repeated=repeated)

    def sample_points(self, shape: SweepShape, *, seed: int = 0, size: int = 16) -> list[dict]:
        """Configurations spread evenly over the ones the plan drew."""
        configs = (shape.state or {}).get("configs") or []
        if len(configs) <= size:
            return list(configs)
        return [configs[i * len(configs) // size] for i in range(size)]

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        seed = resolve_seed(seed)
        if n is None:
            try:
                configs = GridPlanner().plan(space, max_points=max_points)
            except PlanError as exc:
                if "a grid needs" in str(exc):
                    raise PlanError(f"{exc} Or give n to sample that many configurations.", field=exc.field,
                                    axis=exc.axis) from exc
                raise
        else:
            configs = RandomPlanner().plan(space, n=n, seed=seed, max_points=max_points)
        if len(configs) < 2:
            raise PlanError("Successive halving needs at least two configurations to choose from.",
                            field="parameter_space")
        search = HalvingSearch(configs=list(configs), seed=seed, **self.options)
        return Plan([], kind=self.kind, seed=seed, requested=n, space_size=configs.space_size,
                    state=search.to_state())

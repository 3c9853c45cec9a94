"""What every sweep strategy shares: the error it raises, the plan it returns and its base class."""

from __future__ import annotations

import gc
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_MAX_POINTS = 10_000


class PlanError(ValueError):
    """A space that cannot be planned; `field` is the request field to blame, `axis` the path if any."""

    def __init__(self, message: str, *, field: str = "parameter_space", axis: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.axis = axis


class Plan(list):
    """The planned points in run order, plus what the planner learned about the space.

    `seed` is the seed actually used (drawn fresh when none was given, so a sweep can store it and
    replay the plan); `space_size` is the number of distinct points (None when a continuous range
    makes it unbounded); `short` is True when the space held fewer distinct points than `requested`,
    in which case the plan holds all of them; `state` is the ask/tell state of adaptive planners.
    """

    def __init__(
        self, points=(), *, kind: str, seed: int | None = None, requested: int | None = None,
        space_size: int | None = None, state: dict | None = None,
    ) -> None:
        super().__init__(points)
        self.kind = kind
        self.seed = seed
        self.requested = requested
        self.space_size = space_size
        self.state = state

    @property
    def short(self) -> bool:
        return self.requested is not None and len(self) < self.requested

    @property
    def note(self) -> str:
        if not self.short:
            return ""
        if self.space_size is not None and len(self) >= self.space_size:
            return f"The space has only {self.space_size:,} distinct points; planned all of them."
        return f"Found only {len(self):,} distinct points of the {self.requested:,} asked for."


Bounds = tuple[int, int]  # (at least, at most)


@dataclass(frozen=True)
class SweepShape:
    """What a sweep's call bounds depend on besides its planner's options."""

    n: int  # the configurations the sweep may run (its n; 20 for an adaptive sweep without one)
    items: list[dict]  # the sample items every configuration runs on
    repeats: int
    stages: list[dict]  # the experiment's pipeline
    space: list[dict] = field(default_factory=list)
    space_size: int | None = None  # distinct points of the space (None: unbounded)
    state: dict | None = None  # the plan's search state (`Plan.state`)
    reply_chars: int = 1000  # the expected length of a stage's reply: what a proposer reads back

    @property
    def calls_per_run(self) -> int:
        return len(self.items) * self.repeats * len(self.stages)


@dataclass(frozen=True)
class PlannerCalls:
    """The LLM calls a planner makes itself (a proposer's, an agent's): how many, with which endpoint and
    model, the largest first prompt it may send (and the smallest, if it differs), and how many characters
    each later call's prompt adds."""

    endpoint: str
    model: str
    calls: Bounds
    messages: list[dict]
    max_tokens: int | None
    growth_chars: int = 0
    smallest: list[dict] | None = None  # the smallest prompt (None: `messages`): the estimate's low end


@dataclass(frozen=True)
class CallBounds:
    """The LLM calls a sweep makes at least and at most (docs/planners.md, "Estimates").

    `calls` are its runs' stage calls; `repeated` of them repeat a call an earlier run of the same sweep
    made (free: the cache answers); `new_runs` of the runs have configurations no sweep ran before (a
    proposer's fresh prompts: priced as uncached); `planner` are the planner's own calls.
    """

    runs: Bounds
    calls: Bounds
    repeated: int = 0
    new_runs: Bounds = (0, 0)
    planner: tuple[PlannerCalls, ...] = ()


class Planner(ABC):
    """A sweep strategy: turns a parameter space into points (dicts of path → value).

    Traits: `adaptive` planners propose points from earlier results in rounds (no dry run, they
    need a weighted scorer); `needs_n` planners sample, so a sweep request must say how many points;
    `redirectable` planners plan a whole space at once, so their plan can replace the unstarted
    remainder of a running sweep.
    """

    kind: str = ""
    adaptive = False
    needs_n = False
    redirectable = False
    batched = True  # adaptive: `plan` gets the first batch's size as n (False: the planner's own n, e.g. halving)
    redirect_refusal = ""  # why a running sweep of this kind cannot be redirected ("" = it can)

    def __init__(self, options: dict | None = None) -> None:
        self.options = self.options_validate({} if options is None else options)

    @classmethod
    def options_validate(cls, options: dict) -> dict:
        """The planner's `options` with defaults filled in; PlanError naming `options.<name>` otherwise.
        This default takes none: a planner with options overrides it."""
        if not isinstance(options, dict):
            raise PlanError("options must be an object.", field="options")
        for name in options:
            raise PlanError(f"A {cls.kind} sweep takes no option {name!r}.", field=f"options.{name}")
        return {}

    def endpoint_options(self) -> dict[str, str]:
        """Endpoint ids the options name, by field (`options.proposer.endpoint`): the sweep checks the
        user owns each, and its driver loads them."""
        return {}

    def stages_check(self, stages: list[dict]) -> None:
        """PlanError (naming `options.<name>`) when the options do not fit the experiment's pipeline."""
        return None

    @abstractmethod
    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        """The points to run, in a deterministic order (given the seed); PlanError if impossible."""

    def call_bounds(self, shape: SweepShape) -> CallBounds:
        """The calls a sweep of this planner makes at least and at most. This default runs `shape.n`
        configurations (fewer when the space is smaller) on every item: grid, random, guided and tpe."""
        runs = shape.n if shape.space_size is None else min(shape.n, shape.space_size)
        calls = runs * shape.calls_per_run
        return CallBounds(runs=(runs, runs), calls=(calls, calls))

    def sample_points(self, shape: SweepShape, *, seed: int = 0, size: int = 16) -> list[dict]:
        """Up to `size` configurations like the ones the sweep will run: the estimate prices them per call.
        This default draws them from the space with a fixed seed."""
        from .random_search import RandomPlanner  # a planner module imports this one

        return list(RandomPlanner().plan(shape.space, n=max(1, min(size, shape.n)), seed=seed))

    @classmethod
    def search_from_state(cls, state: dict) -> AdaptiveSearch:
        """An adaptive planner's search, continued from `plan.state` (as stored on the sweep)."""
        raise NotImplementedError(f"The {cls.kind!r} planner is not adaptive.")


class AdaptiveSearch(Protocol):
    """The ask/tell search of an adaptive planner; its whole state round-trips through `to_state()`,
    so any driver can continue it (apps.runs.services.guided tells it scores and asks for batches)."""

    def tell(self, point: dict, score: float | None) -> None: ...

    def ask(self, n: int) -> list[dict]: ...

    def best(self) -> tuple[dict, float] | None: ...

    def to_state(self) -> dict: ...


def resolve_seed(seed: int | None) -> int:
    if seed is None:
        return random.SystemRandom().randrange(2**32)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PlanError("The seed must be a whole number.", field="seed")
    return seed


def requested_count(n: object, *, max_points: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        message = f"A {what} sweep needs n, the number of points to run (a whole number ≥ 1)."
        raise PlanError(message, field="n")
    if n > max_points:
        raise PlanError(f"n is {n:,} but the limit is {max_points:,} points.", field="n")
    return n


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while 10⁵ acyclic objects are built: the collector would scan
    every one of them again and again (a third of a 100,000-point plan's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

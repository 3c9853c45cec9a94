"""Bayesian search: Optuna's TPE sampler over the parameter space, through ask/tell.

Explicit values (models, prompt variants, endpoints) are categorical over their indices, stepped ranges
are integers over their grid indices (ordered, so TPE can learn "higher is better"), sampled ranges keep
their distribution (uniform, log_uniform, int). The state is only the space, the seed, the options and
the told (point, score) pairs, plus the points asked and not told yet: every `ask` builds a fresh
in-memory study from them with a sampler seeded by (seed, trials told, trials pending), so any driver,
after any crash, proposes exactly what the first would have.

A point already run (or already proposed) is never returned: the sampler is told its known score and
asked again, a bounded number of times, and then a random unseen point is taken instead, so a sweep
never stalls on duplicates and ends only when the space is used up.
"""

from __future__ import annotations

import copy
import hashlib
import math
import random
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.trial import TrialState, create_trial

from .base import DEFAULT_MAX_POINTS, Plan, PlanError, Planner, resolve_seed
from .space import Axis, RangeAxis, StepAxis, ValuesAxis, parse_space, point_key, sample_new_points, space_size

# Optuna logs a line per trial at INFO; a sweep's timeline already says what ran.
optuna.logging.set_verbosity(optuna.logging.WARNING)

STATE_VERSION = 1
DEFAULT_STARTUP_TRIALS = 10
MAX_STARTUP_TRIALS = 10_000
DUPLICATE_RETRIES = 16


class _Coder:
    """One axis as an Optuna distribution: `encode` a point's value into a parameter (None when it is not on
    the axis), `decode` a suggested parameter back into a value."""

    def __init__(self, axis: Axis) -> None:
        self.axis = axis
        self.distribution: BaseDistribution | None = None  # None: a single value, nothing to search
        if axis.size == 1:
            return
        if isinstance(axis, ValuesAxis):
            self.distribution = CategoricalDistribution(tuple(range(axis.size)))
        elif isinstance(axis, StepAxis):
            self.distribution = IntDistribution(0, axis.size - 1)
        elif isinstance(axis, RangeAxis) and axis.integral:
            self.distribution = IntDistribution(axis.int_low, axis.int_high, log=axis.log)
        elif isinstance(axis, RangeAxis):
            self.distribution = FloatDistribution(axis.low, axis.high, log=axis.log)
        else:  # pragma: no cover - a new axis type must say how it is searched
            raise TypeError(f"No TPE distribution for {type(axis).__name__}")

    def encode(self, value: Any) -> Any:
        axis = self.axis
        if isinstance(axis, (ValuesAxis, StepAxis)) or (isinstance(axis, RangeAxis) and axis.integral):
            index = axis.index_of(value)
            if index is None:
                return None
            return index if isinstance(axis, (ValuesAxis, StepAxis)) else axis.int_low + index
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not axis.low <= value <= axis.high:
            return None
        return float(value)

    def decode(self, param: Any) -> Any:
        axis = self.axis
        if self.distribution is None:
            return axis.value_at(0)  # the axis's one value
        if isinstance(axis, (ValuesAxis, StepAxis)):
            return axis.value_at(int(param))
        return axis.tidy(param)


class TpeSearch:
    """Ask/tell TPE search over one parameter space; see the module docstring."""

    def __init__(self, space: list[dict], *, seed: int | None = None, options: dict | None = None,
                 max_points: int = DEFAULT_MAX_POINTS) -> None:
        self.space = list(space or [])
        self.axes = parse_space(self.space)
        self.seed = resolve_seed(seed)
        self.options = TpePlanner.options_validate(options or {})
        self.max_points = max_points
        self.trials: list[list] = []  # [point, score] told, in the order told
        self.pending: list[dict] = []  # asked, not told yet
        self._index: dict[str, int] = {}
        self._coders = [_Coder(axis) for axis in self.axes]
        self._distributions = {c.axis.path: c.distribution for c in self._coders if c.distribution is not None}

    @property
    def space_size(self) -> int | None:
        return space_size(self.axes)

    def best(self) -> tuple[dict, float] | None:
        best = None
        for point, score in self.trials:  # equal scores: the first told wins
            if score is not None and (best is None or score > best[1]):
                best = (point, score)
        return best

    def tell(self, point: dict, score: float | None) -> None:
        """Record a point's score (None for a failed run); a later tell for the same point wins."""
        if score is not None:
            if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
                raise ValueError(f"score must be a finite number or None, not {score!r}")
            score = float(score)
        key = point_key(point)
        self.pending = [p for p in self.pending if point_key(p) != key]
        if key in self._index:
            self.trials[self._index[key]][1] = score
        else:
            self._index[key] = len(self.trials)
            self.trials.append([dict(point), score])

    def ask(self, k: int = 1) -> list[dict]:
        """Up to k points never run nor proposed before; fewer, or none, once the space or max_points is used up."""
        k = max(0, min(k, self.max_points - len(self.trials) - len(self.pending)))
        if not k:
            return []
        label = f"tpe:{self.seed}:{len(self.trials)}:{len(self.pending)}"
        study = self._study(int.from_bytes(hashlib.sha256(label.encode()).digest()[:4], "big"))
        rng = random.Random(label)
        seen = set(self._index) | {point_key(p) for p in self.pending}
        proposals: list[dict] = []
        while len(proposals) < k:
            point = self._ask_new(study, seen)
            if point is None:
                found = sample_new_points(self.axes, 1, rng, seen)  # TPE keeps repeating itself: jump
                if not found:
                    break
                point = found[0]
            seen.add(point_key(point))
            proposals.append(point)
        self.pending.extend(proposals)
        return proposals

    def to_state(self) -> dict:
        return copy.deepcopy({
            "version": STATE_VERSION, "space": self.space, "seed": self.seed, "options": self.options,
            "max_points": self.max_points, "trials": self.trials, "pending": self.pending,
        })

    @classmethod
    def from_state(cls, state: dict) -> TpeSearch:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise PlanError("This tpe search state is from an unknown version.", field="state")
        try:
            search = cls(state["space"], seed=state["seed"], options=state["options"],
                         max_points=state["max_points"])
            for point, score in state["trials"]:
                search.tell(point, score)
            search.pending = [dict(point) for point in state["pending"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"This tpe search state is damaged ({exc!r}).", field="state") from exc
        return search

    def _ask_new(self, study: optuna.Study, seen: set[str]) -> dict | None:
        for _ in range(DUPLICATE_RETRIES):
            trial = study.ask(self._distributions)
            point = self._decode(trial.params)
            key = point_key(point)
            if key not in seen:
                return point  # left running: the constant liar steers the rest of the batch elsewhere
            known = self.trials[self._index[key]][1] if key in self._index else None
            if known is None:
                study.tell(trial, state=TrialState.FAIL)
            else:
                study.tell(trial, known)
        return None

    def _study(self, sampler_seed: int) -> optuna.Study:
        sampler = TPESampler(seed=sampler_seed, n_startup_trials=self.options["n_startup_trials"])
        study = optuna.create_study(direction="maximize", sampler=sampler)
        frozen = [self._frozen(point, score, TrialState.COMPLETE if score is not None else TrialState.FAIL)
                  for point, score in self.trials]
        frozen += [self._frozen(point, None, TrialState.RUNNING) for point in self.pending]
        study.add_trials([trial for trial in frozen if trial is not None])
        return study

    def _frozen(self, point: dict, score: float | None, state: TrialState) -> optuna.trial.FrozenTrial | None:
        params = {}
        for coder in self._coders:
            if coder.distribution is None:
                continue
            param = coder.encode(point.get(coder.axis.path)) if coder.axis.path in point else None
            if param is None:
                return None  # not a point of this space (a hand-edited state): nothing to learn from
            params[coder.axis.path] = param
        return create_trial(state=state, value=score, params=params, distributions=self._distributions)

    def _decode(self, params: dict) -> dict:
        return {coder.axis.path: coder.decode(params.get(coder.axis.path)) for coder in self._coders}


class TpePlanner(Planner):
    """`plan` returns the first batch and the search state in `plan.state`; continue with
    `TpePlanner.search_from_state(plan.state)`, `tell` and `ask`."""

    kind = "tpe"
    adaptive = True
    needs_n = True

    @classmethod
    def options_validate(cls, options: dict) -> dict:
        if not isinstance(options, dict):
            raise PlanError("options must be an object.", field="options")
        for name in options:
            if name != "n_startup_trials":
                raise PlanError(f"A tpe sweep has no option {name!r}; it takes n_startup_trials (n, batch and "
                                "seed are the sweep's own fields).", field=f"options.{name}")
        startup = options.get("n_startup_trials", DEFAULT_STARTUP_TRIALS)
        if isinstance(startup, bool) or not isinstance(startup, int) or not 0 <= startup <= MAX_STARTUP_TRIALS:
            raise PlanError(f"n_startup_trials, the random trials before TPE takes over, must be a whole number "
                            f"from 0 to {MAX_STARTUP_TRIALS:,}.", field="options.n_startup_trials")
        return {"n_startup_trials": startup}

    @classmethod
    def search_from_state(cls, state: dict) -> TpeSearch:
        return TpeSearch.from_state(state)

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise PlanError("n, the size of the first batch, must be a whole number ≥ 1.", field="n")
        search = TpeSearch(space, seed=seed, options=self.options, max_points=max_points)
        points = search.ask(n or 4)
        return Plan(points, kind=self.kind, seed=search.seed, requested=n, space_size=search.space_size,
                    state=search.to_state())

"""Parameter-space axes: explicit values, stepped ranges and sampled ranges, and points over them.

A finite space is numbered in grid order (first axis slowest), so any point has an index and
planners can enumerate, sample or scan it without expanding it first.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any

from apps.engine.config_paths import split_path
from apps.engine.hashing import canonical_json
from apps.engine.params import NUMERIC_PARAMS, is_number

from .base import PlanError

DISTRIBUTIONS = ("uniform", "log_uniform", "int")
SIGNIFICANT_DIGITS = 4
MAX_DECIMALS = 12


def point_key(point: dict) -> str:
    return canonical_json(point)


def number_key(value: int | float) -> int | float:
    """Equal for two numbers exactly when their canonical JSON is equal (see hashing._normalize)."""
    if isinstance(value, float):
        value = round(value, 10)
        return int(value) if value.is_integer() else value
    return value


def _decimals(number: int | float) -> int:
    if isinstance(number, int):
        return 0
    exponent = Decimal(repr(number)).as_tuple().exponent
    return min(max(0, -int(exponent)), MAX_DECIMALS)


def _integral_param(path: str) -> bool:
    parts = split_path(path)
    spec = NUMERIC_PARAMS.get(str(parts[-1])) if len(parts) == 4 and parts[2] == "params" else None
    return bool(spec and spec.integer)


class Axis(ABC):
    """One dimension of the space; `size` is None when it is continuous."""

    path: str
    size: int | None
    griddable = False
    index_draw = False  # True when sample() is value_at(randrange(size)) and the index is a key

    @abstractmethod
    def value_at(self, index: int) -> Any:
        """The index-th value in grid order (finite axes only)."""

    @abstractmethod
    def index_of(self, value: Any) -> int | None:
        """The index of `value` on this axis, or None when it is not one of its points."""

    def sample(self, rng: random.Random) -> Any:
        return self.value_at(rng.randrange(self.size))

    def sample_keyed(self, rng: random.Random) -> tuple[Any, Any]:
        """`sample(rng)` (same draws) and a cheap key, equal for two values exactly when their
        canonical JSON is."""
        value = self.sample(rng)
        return value, canonical_json(value)

    @abstractmethod
    def nudge(self, value: Any, rng: random.Random, *, spread: float, tried: set[str]) -> Any:
        """A value near `value`, preferring ones no trial has used on this axis yet."""


class ValuesAxis(Axis):
    griddable = True
    index_draw = True

    def __init__(self, path: str, values: list) -> None:
        self.path = path
        self.keys: list[str] = []
        self.values: list = []
        for value in values:
            key = canonical_json(value)
            if key not in self.keys:
                self.keys.append(key)
                self.values.append(value)
        self.size = len(self.values)

    def value_at(self, index: int) -> Any:
        return self.values[index]

    def sample_keyed(self, rng: random.Random) -> tuple[Any, Any]:
        index = rng.randrange(self.size)
        return self.values[index], index

    def index_of(self, value: Any) -> int | None:
        key = canonical_json(value)
        return self.keys.index(key) if key in self.keys else None

    def nudge(self, value: Any, rng: random.Random, *, spread: float, tried: set[str]) -> Any:
        current = self.index_of(value)
        others = [i for i in range(self.size) if i != current]
        if not others:
            return value
        fresh = [i for i in others if self.keys[i] not in tried]
        return self.values[rng.choice(fresh or others)]


class StepAxis(Axis):
    griddable = True

    def __init__(self, path: str, low: float, high: float, step: float, *, integral: bool) -> None:
        self.path = path
        whole = all(float(x).is_integer() for x in (low, step))
        self.integral = (integral and whole) or all(isinstance(x, int) for x in (low, high, step))
        self.low, self.step = (int(low), int(step)) if self.integral else (low, step)
        self.decimals = max(_decimals(low), _decimals(step))
        # Include max when it lands on the grid up to float noise (0.1 + 4 * 0.2 = 0.9000000000000001).
        self.size = math.floor((high - low) / step + 1e-9) + 1
        # Beyond 10 decimals canonical JSON rounds neighbouring grid points together, so the index is no key.
        self.index_is_key = self.index_draw = self.integral or self.decimals <= 10

    def sample_keyed(self, rng: random.Random) -> tuple[Any, Any]:
        index = rng.randrange(self.size)
        value = self.value_at(index)
        return value, index if self.index_is_key else number_key(value)

    def value_at(self, index: int) -> Any:
        if not 0 <= index < self.size:
            raise IndexError(index)
        if self.integral:
            return self.low + index * self.step
        value = round(self.low + index * self.step, self.decimals)
        return int(value) if self.decimals == 0 and value.is_integer() else value

    def _nearest(self, value: Any) -> int:
        return min(max(round((value - self.low) / self.step), 0), self.size - 1)

    def index_of(self, value: Any) -> int | None:
        if not is_number(value):
            return None
        index = self._nearest(value)
        return index if abs(self.value_at(index) - value) <= 1e-9 * max(1.0, abs(value)) else None

    def nudge(self, value: Any, rng: random.Random, *, spread: float, tried: set[str]) -> Any:
        if not is_number(value):
            return self.sample(rng)
        index = self._nearest(value)
        adjacent = [i for i in (index - 1, index + 1) if 0 <= i < self.size] or [index]
        fresh = [i for i in adjacent if canonical_json(self.value_at(i)) not in tried]
        return self.value_at(rng.choice(fresh or adjacent))


class RangeAxis(Axis):
    """A range sampled from a distribution; whole-number parameters and `int` give integers."""

    def __init__(self, path: str, low: float, high: float, distribution: str, *, integral: bool) -> None:
        self.path = path
        self.low, self.high = low, high
        self.log = distribution == "log_uniform"
        self.integral = integral or distribution == "int"
        if self.integral:
            self.int_low, self.int_high = math.ceil(low), math.floor(high)
            self.size = self.int_high - self.int_low + 1
            self.index_draw = not self.log  # randint(low, high) is low + randrange(size)
        else:
            self.size = 1 if low == high else None

    def value_at(self, index: int) -> Any:
        if self.size is None or not 0 <= index < self.size:
            raise IndexError(index)
        return self.int_low + index if self.integral else self.low

    def index_of(self, value: Any) -> int | None:
        if not is_number(value):
            return None
        if self.integral:
            whole = float(value).is_integer() and self.int_low <= value <= self.int_high
            return int(value) - self.int_low if whole else None
        return 0 if self.size == 1 and value == self.low else None

    def tidy(self, value: float) -> Any:
        """Clamp into the range and round to readable precision (≈ 1/10,000 of the range)."""
        value = min(max(value, self.low), self.high)
        if self.integral:
            return min(max(round(value), self.int_low), self.int_high)
        if self.low == self.high or value == 0:
            return float(value)
        magnitude = abs(value) if self.log else self.high - self.low
        digits = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(magnitude))
        return min(max(round(value, digits), self.low), self.high)

    def sample_keyed(self, rng: random.Random) -> tuple[Any, Any]:
        value = self.sample(rng)
        return value, number_key(value)

    def sample(self, rng: random.Random) -> Any:
        if self.integral and not self.log:
            return rng.randint(self.int_low, self.int_high)
        if self.log:
            return self.tidy(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return self.tidy(rng.uniform(self.low, self.high))

    def nudge(self, value: Any, rng: random.Random, *, spread: float, tried: set[str]) -> Any:
        if not is_number(value) or self.low == self.high:
            return self.sample(rng)
        scale = math.log if self.log else float
        low, high, centre = scale(self.low), scale(self.high), scale(min(max(value, self.low), self.high))
        moved = rng.gauss(centre, spread * (high - low))
        # Reflect at the bounds rather than clamp, so the edges are not over-sampled.
        while moved < low or moved > high:
            moved = 2 * low - moved if moved < low else 2 * high - moved
        result = self.tidy(math.exp(moved) if self.log else moved)
        if self.integral and result == value:
            steps = [v for v in (value - 1, value + 1) if self.int_low <= v <= self.int_high]
            result = rng.choice(steps) if steps else result
        return result


def parse_axis(index: int, raw: Any) -> Axis:
    where = f"parameter_space.{index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"]:
        raise PlanError(f"Axis {index} must be an object with a path.", field=where)
    path = raw["path"]

    def fail(message: str, key: str = "") -> PlanError:
        return PlanError(f"{path}: {message}", field=f"{where}.{key}" if key else where, axis=path)

    if "values" in raw:
        if not isinstance(raw["values"], list) or not raw["values"]:
            raise fail("'values' must be a non-empty list.", "values")
        return ValuesAxis(path, raw["values"])
    low, high = raw.get("min"), raw.get("max")
    if not (is_number(low) and is_number(high)):
        raise fail("give 'values' or a numeric range with 'min' and 'max'.")
    if low > high:
        raise fail(f"min ({low}) is greater than max ({high}).", "min")
    integral = _integral_param(path)
    if "step" in raw:
        step = raw["step"]
        if not is_number(step) or step <= 0:
            raise fail("step must be a number > 0.", "step")
        return StepAxis(path, low, high, step, integral=integral)
    distribution = raw.get("distribution", "uniform")
    if distribution not in DISTRIBUTIONS:
        raise fail(f"distribution must be one of {', '.join(DISTRIBUTIONS)}.", "distribution")
    if distribution == "log_uniform" and low <= 0:
        raise fail("a log_uniform range needs min > 0.", "min")
    axis = RangeAxis(path, low, high, distribution, integral=integral)
    if axis.size == 0:
        raise fail(f"there is no whole number between {low} and {high}.")
    return axis


def parse_space(space: Any) -> list[Axis]:
    """Axes from a parameter space (a list of axis dicts); PlanError naming the axis otherwise."""
    if space is None:
        return []
    if not isinstance(space, list):
        raise PlanError("The parameter space must be a list of axes.")
    axes, seen = [], set()
    for index, raw in enumerate(space):
        axis = parse_axis(index, raw)
        if axis.path in seen:
            raise PlanError(
                f"{axis.path}: the path appears twice.", field=f"parameter_space.{index}.path", axis=axis.path
            )
        seen.add(axis.path)
        axes.append(axis)
    return axes


def space_size(axes: list[Axis]) -> int | None:
    """Distinct points in the space, or None when a continuous axis makes it unbounded."""
    total = 1
    for axis in axes:
        if axis.size is None:
            return None
        total *= axis.size
    return total


def point_at(axes: list[Axis], index: int) -> dict[str, Any]:
    values = []
    for axis in reversed(axes):
        index, digit = divmod(index, axis.size)
        values.append(axis.value_at(digit))
    return {axis.path: value for axis, value in zip(axes, reversed(values), strict=True)}


def sample_new_points(axes: list[Axis], k: int, rng: random.Random, seen: set[str]) -> list[dict]:
    """Up to k random points whose keys are not in `seen` (which is updated); fewer once exhausted."""
    total = space_size(axes)
    if total is not None and total - len(seen) <= k:
        remaining = [p for p in (point_at(axes, i) for i in range(total)) if point_key(p) not in seen]
        rng.shuffle(remaining)
        seen.update(point_key(p) for p in remaining[:k])
        return remaining[:k]
    found: list[dict] = []
    attempts = 20 * k + 200
    while len(found) < k and attempts:
        attempts -= 1
        point = {axis.path: axis.sample(rng) for axis in axes}
        key = point_key(point)
        if key not in seen:
            seen.add(key)
            found.append(point)
    if len(found) < k and total is not None:
        _walk_to_free_points(axes, k, rng, seen, found, total)
    return found


def sample_distinct_points(axes: list[Axis], k: int, rng: random.Random) -> list[dict]:
    """Exactly what `sample_new_points(axes, k, rng, set())` returns (the same draws), keyed by
    per-axis indices or numbers instead of the canonical JSON of each point, so 10⁵ points are cheap."""
    total = space_size(axes)
    if total is not None and total <= k:
        return sample_new_points(axes, k, rng, set())
    if all(axis.index_draw for axis in axes):
        found = _draw_indexed(axes, k, rng)
    else:
        found = _draw_keyed(axes, k, rng)
    if len(found) < k and total is not None:
        _walk_to_free_points(axes, k, rng, {point_key(p) for p in found}, found, total)
    return found


def _draw_keyed(axes: list[Axis], k: int, rng: random.Random) -> list[dict]:
    paths, samplers = [axis.path for axis in axes], [axis.sample_keyed for axis in axes]
    found: list[dict] = []
    seen: set[tuple] = set()
    attempts = 20 * k + 200
    while len(found) < k and attempts:
        attempts -= 1
        drawn = [sampler(rng) for sampler in samplers]
        key = tuple([pair[1] for pair in drawn])
        if key not in seen:
            seen.add(key)
            found.append(dict(zip(paths, [pair[0] for pair in drawn], strict=True)))
    return found


def _draw_indexed(axes: list[Axis], k: int, rng: random.Random) -> list[dict]:
    # randrange(size) inlined (it is getrandbits(size.bit_length()) until below size): the draws stay
    # those of Axis.sample, which a test checks against sample_new_points.
    getrandbits = rng.getrandbits
    shape = [(axis.size, axis.size.bit_length()) for axis in axes]
    columns = [[axis.value_at(i) for i in range(axis.size)] for axis in axes]
    paths = [axis.path for axis in axes]
    found: list[dict] = []
    seen: set[tuple] = set()
    attempts = 20 * k + 200
    while len(found) < k and attempts:
        attempts -= 1
        digits = []
        for size, bits in shape:
            digit = getrandbits(bits)
            while digit >= size:
                digit = getrandbits(bits)
            digits.append(digit)
        key = tuple(digits)
        if key not in seen:
            seen.add(key)
            found.append({path: column[digit] for path, column, digit in zip(paths, columns, digits, strict=True)})
    return found


def _walk_to_free_points(axes: list[Axis], k: int, rng: random.Random, seen: set[str], found: list[dict],
                         total: int) -> None:
    # Nearly-full finite space: walk the numbering from a random start to the next free points.
    start = rng.randrange(total)
    for offset in range(total):
        point = point_at(axes, (start + offset) % total)
        key = point_key(point)
        if key not in seen:
            seen.add(key)
            found.append(point)
            if len(found) == k:
                break

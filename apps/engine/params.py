"""Inference parameters a stage may set: the known ones are checked, any other is a provider extra."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NumericParam:
    integer: bool
    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} between {_fmt(self.low)} and {_fmt(self.high)}"
        if self.low is not None:
            return f"{kind} ≥ {_fmt(self.low)}"
        return kind


NUMERIC_PARAMS: dict[str, NumericParam] = {
    "temperature": NumericParam(integer=False, low=0, high=2),
    "top_p": NumericParam(integer=False, low=0, high=1),
    "max_tokens": NumericParam(integer=True, low=1),
    "seed": NumericParam(integer=True),
    "presence_penalty": NumericParam(integer=False, low=-2, high=2),
    "frequency_penalty": NumericParam(integer=False, low=-2, high=2),
}
KNOWN_PARAMS = frozenset(NUMERIC_PARAMS) | {"stop", "response_format"}
# The adapter builds these parts of the request itself; a stage may not override them.
RESERVED_PARAMS = frozenset({"model", "messages", "stream", "n", "system"})
DISTRIBUTIONS = ("uniform", "log_uniform", "int")
MAX_GRID_POINTS = 10_000
MAX_STOP_SEQUENCES = 16
MAX_MAGNITUDE = 2**63
_EXTRA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def is_number(value: Any) -> bool:
    """A finite JSON number within ±2**63; booleans are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= MAX_MAGNITUDE and (isinstance(value, int) or math.isfinite(value))


def is_whole(value: int | float) -> bool:
    return isinstance(value, int) or value.is_integer()


def param_name_error(name: Any) -> str | None:
    if not isinstance(name, str) or not _EXTRA_NAME.match(name):
        return "Parameter names start with a letter and use letters, digits, '_', '.' or '-' (≤ 64)."
    if name in RESERVED_PARAMS:
        return f"'{name}' is set by PromptLooper and cannot be a parameter."
    return None


def normalize_param(name: str, value: Any) -> tuple[Any, str | None]:
    """Return (normalized value, None) or (None, error message) for one parameter value."""
    spec = NUMERIC_PARAMS.get(name)
    if spec is not None:
        return _normalize_number(spec, value)
    if name == "stop":
        if isinstance(value, str) and value:
            return value, None
        if (
            isinstance(value, list)
            and 0 < len(value) <= MAX_STOP_SEQUENCES
            and all(isinstance(s, str) and s for s in value)
        ):
            return value, None
        return None, f"Must be a non-empty string or a list of 1–{MAX_STOP_SEQUENCES} non-empty strings."
    if name == "response_format":
        if isinstance(value, dict):
            return value, None
        return None, 'Must be an object, e.g. {"type": "json_object"}.'
    if isinstance(value, float) and not math.isfinite(value):
        return None, "Must be a finite number."
    return value, None


def _normalize_number(spec: NumericParam, value: Any) -> tuple[Any, str | None]:
    if not is_number(value):
        return None, f"Must be {spec.describe()}."
    if spec.integer:
        if not is_whole(value):
            return None, f"Must be {spec.describe()}."
        value = int(value)
    else:
        value = float(value)
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        return None, f"Must be {spec.describe()}."
    return value, None


def grid_points(low: float, high: float, step: float) -> int:
    """How many values `min, min + step, … ≤ max` holds (tolerant of float rounding)."""
    return math.floor((high - low) / step + 1e-9) + 1


def normalize_range(name: str, raw: Mapping[str, Any], *, current: Any = None) -> tuple[dict, dict[str, str]]:
    """Check a range axis over parameter `name` whose stage value is `current`.

    Returns ({min, max, step?, distribution?}, {}) or ({}, errors keyed by "min", "max", "step",
    "distribution", "path" or "" for the axis as a whole). A `step` makes grid points; without
    one, random and guided sweeps sample the `distribution` (uniform by default).
    """
    spec = NUMERIC_PARAMS.get(name)
    if spec is None and not is_number(current):
        return {}, {"path": "A range only applies to a numeric parameter; use 'values'."}
    errors: dict[str, str] = {}
    for key in ("min", "max"):
        if not is_number(raw.get(key)):
            errors[key] = "Must be a number." if key in raw else "This field is required."
    if errors:
        return {}, errors
    low, high = raw["min"], raw["max"]
    integral = bool(spec and spec.integer) or raw.get("distribution") == "int"
    if low > high:
        errors["min"] = f"min ({low}) is greater than max ({high}); the range is empty."
    elif spec and ((spec.low is not None and low < spec.low) or (spec.high is not None and high > spec.high)):
        errors[""] = f"{name} must be {spec.describe()}."
    elif integral and not (is_whole(low) and is_whole(high)):
        errors[""] = f"{name} takes whole numbers: min and max must be integers."
    axis: dict[str, Any] = {"min": int(low) if integral else low, "max": int(high) if integral else high}
    if "step" in raw:
        step = raw["step"]
        if not is_number(step) or step <= 0:
            errors["step"] = "Must be a number > 0."
        elif integral and not is_whole(step):
            errors["step"] = f"{name} takes whole numbers: step must be an integer."
        elif low <= high and grid_points(low, high, step) > MAX_GRID_POINTS:
            errors["step"] = f"This range expands to more than {MAX_GRID_POINTS} points."
        else:
            axis["step"] = int(step) if integral else step
    if "distribution" in raw:
        distribution = axis["distribution"] = raw["distribution"]
        if distribution not in DISTRIBUTIONS:
            errors["distribution"] = f"Must be one of: {', '.join(DISTRIBUTIONS)}."
        elif distribution == "log_uniform" and low <= 0:
            errors["min"] = "A log_uniform range needs min > 0."
    return ({}, errors) if errors else (axis, {})

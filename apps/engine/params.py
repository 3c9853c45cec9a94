"""Inference parameters a stage may set: the known ones are checked, any other is a provider extra."""

from __future__ import annotations

import math
import re
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
MAX_STOP_SEQUENCES = 16
_EXTRA_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def is_number(value: Any) -> bool:
    """A finite JSON number; booleans are not numbers here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
        if not float(value).is_integer():
            return None, f"Must be {spec.describe()}."
        value = int(value)
    else:
        value = float(value)
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        return None, f"Must be {spec.describe()}."
    return value, None

"""Small readers that scorers use to validate and normalize their options.

Each raises OptionsInvalid naming the option, so a bad experiment config gets a 400 keyed by
`scoring_config.scorers.<i>.options.<name>`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from typing import Any

from apps.engine.scorers.base import OptionsInvalid

REQUIRED: Any = object()


def start(options: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """The options as a dict, refusing unknown keys (a misspelled option must fail loudly)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise OptionsInvalid("options", "Must be an object.")
    allowed = list(allowed)
    for key in options:
        if key not in allowed:
            raise OptionsInvalid(str(key), f"Unknown option; this scorer takes: {', '.join(allowed)}.")
    return options


def _missing(options: dict, name: str, default: Any) -> tuple[bool, Any]:
    if options.get(name) is not None:
        return False, None
    if default is REQUIRED:
        raise OptionsInvalid(name, "This option is required.")
    return True, default


def choice(options: dict, name: str, allowed: tuple[str, ...], default: Any = REQUIRED) -> str:
    missing, value = _missing(options, name, default)
    if missing:
        return value
    value = options[name]
    if value not in allowed:
        raise OptionsInvalid(name, f"Must be one of: {', '.join(allowed)}.")
    return value


def flag(options: dict, name: str, default: bool) -> bool:
    value = options.get(name, default)
    if not isinstance(value, bool):
        raise OptionsInvalid(name, "Must be true or false.")
    return value


def number(options: dict, name: str, *, default: Any = REQUIRED, low: float | None = None,
           high: float | None = None, integer: bool = False) -> Any:
    missing, value = _missing(options, name, default)
    if missing:
        return value
    value = options[name]
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise OptionsInvalid(name, f"Must be {kind}.")
    if integer and value != int(value):
        raise OptionsInvalid(name, f"Must be {kind}.")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise OptionsInvalid(name, f"Must be {kind} {bounds}.")
    return int(value) if integer else float(value)


def text(options: dict, name: str, *, default: Any = REQUIRED, max_chars: int = 1000) -> Any:
    missing, value = _missing(options, name, default)
    if missing:
        return value
    value = options[name]
    if not isinstance(value, str) or not value.strip():
        raise OptionsInvalid(name, "Must be a non-empty string.")
    if len(value) > max_chars:
        raise OptionsInvalid(name, f"Must be at most {max_chars} characters.")
    return value


def uuid_text(options: dict, name: str) -> str:
    _missing(options, name, REQUIRED)
    value = options[name]
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        raise OptionsInvalid(name, "Must be the id (UUID) of one of your endpoints.") from None

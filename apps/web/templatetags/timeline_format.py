"""Display helpers of the live view's timeline: a test result, signed differences, payloads a guest may read."""

from __future__ import annotations

import json
from typing import Any

from django import template

from apps.runs.masking import saved_config_masked, text_endpoints_masked

register = template.Library()

TEST_NAMES = {"mcnemar_exact": "McNemar exact", "wilcoxon": "Wilcoxon signed-rank", "none": "no paired test"}
JSON_CHARS = 4000


@register.filter
def for_viewer(value: Any, can_write: bool) -> Any:
    """The payload part as the owner sees it; anyone else (a guest) sees it with endpoint ids masked."""
    if can_write:
        return value
    return text_endpoints_masked(value) if isinstance(value, str) else saved_config_masked(value)


@register.filter
def signed(value: float | None, digits: int = 3) -> str:
    """A difference with its sign: +0.120, −0.050; unknown → "–"."""
    if value is None:
        return "–"
    text = f"{abs(float(value)):.{int(digits)}f}"
    return f"−{text}" if float(value) < 0 and float(text) else f"+{text}"


@register.filter
def p_value(value: float | None) -> str:
    """p as people read it: "p = 0.031", "p < 0.001"."""
    if value is None:
        return "p –"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


@register.filter
def test_name(value: str | None) -> str:
    return TEST_NAMES.get(value or "none", value or "")


@register.filter
def seconds(milliseconds: int | None) -> str:
    """A step's duration: "850 ms", "2.4 s"."""
    ms = int(milliseconds or 0)
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


@register.filter
def as_json(value: Any) -> str:
    """Arguments or a result as indented JSON, clipped (the event keeps at most a summary anyway)."""
    if isinstance(value, str):
        return value[:JSON_CHARS]
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= JSON_CHARS else text[:JSON_CHARS] + "…"

"""Small display helpers for the pages' templates: event kinds in words, rates, token counts."""

from __future__ import annotations

from django import template

from apps.activity.kinds import Kind

register = template.Library()


@register.filter
def kind_words(kind: str) -> str:
    """An event kind as a sentence ("A run finished."); an unknown kind as itself."""
    try:
        return Kind(kind).description
    except ValueError:
        return kind


@register.filter
def percent(rate: float | None) -> str:
    """0.4567 → "45.7%"; nothing to measure yet → "–"."""
    return "–" if rate is None else f"{rate * 100:.1f}%"


@register.filter
def score(value: float | str | None) -> str:
    """A weighted score to three decimals, or "–" when there is none (yet), or it is not a number."""
    try:
        return f"{float(value):.3f}"
    except (TypeError, ValueError):
        return "–"

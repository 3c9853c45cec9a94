"""Display helpers of the live experiment view."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def eta(remaining: timedelta | None) -> str:
    """A time left as "2 h 5 min", "4 min 10 s" or "12 s"; unknown → "–"."""
    if remaining is None:
        return "–"
    seconds = max(0, int(remaining.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"

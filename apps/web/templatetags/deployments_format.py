"""Drawing helpers for the A/B test metrics (web/deployments/abtest.html)."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

BAR_WIDTH = 120
MIN_SCALE = 5.0  # percentage points either side of zero, at least


@register.simple_tag
def diff_scale(metrics: Sequence[dict]) -> float:
    """The points either side of zero that every variant's interval fits in (one scale for the whole table)."""
    bounds = [abs(row[key]) for row in metrics for key in ("ci_low", "ci_high", "diff") if row.get(key) is not None]
    return max([MIN_SCALE, *bounds])


@register.simple_tag
def diff_bar(row: dict, scale: float) -> SafeString | str:
    """The difference from control with its confidence interval as a band around a zero line (decorative)."""
    if row.get("diff") is None or row.get("ci_low") is None:
        return ""

    def at(value: float) -> float:
        return round((max(-scale, min(scale, value)) + scale) / (2 * scale) * BAR_WIDTH, 1)
    low, high = at(row["ci_low"]), at(row["ci_high"])
    return format_html(
        '<svg class="ci-bar diff-bar" viewBox="0 0 {w} 12" width="{w}" height="12" aria-hidden="true" '
        'focusable="false"><rect class="ci-track" x="0" y="5" width="{w}" height="2"></rect>'
        '<rect class="diff-zero" x="{zero}" y="0" width="1" height="12"></rect>'
        '<rect class="ci-band{sig}" x="{x}" y="2" width="{band}" height="8" rx="2"></rect>'
        '<rect class="ci-point" x="{point}" y="1" width="2" height="10"></rect></svg>',
        w=BAR_WIDTH, zero=BAR_WIDTH / 2, x=low, band=max(1.0, round(high - low, 1)),
        point=max(0.0, at(row["diff"]) - 1),
        sig=" significant" if row.get("significant") else "",
    )


@register.filter
def p_value(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"

"""Drawing helpers for the leaderboard and score chart (web/experiments/leaderboard.html)."""

from __future__ import annotations

from uuid import UUID

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.runs.board import WEIGHTED, BoardPage, ChartData
from apps.web import charts

register = template.Library()

BAR_WIDTH = 100
RUN_LINKS = {"detail": "web:run", "approve": "web:run_approve", "clear_approval": "web:run_clear_approval",
             "reject": "web:run_reject", "fork": "web:run_fork"}
_SENTINEL = str(UUID(int=0))
_link_patterns: dict[str, dict[str, str]] = {}  # script prefix → link name → URL with the sentinel for the run


@register.simple_tag
def run_links(run_id: object) -> dict[str, str]:
    """A leaderboard row's links (detail, approve, clear approval, reject, fork), reversed once per process and
    script prefix and filled in per row: five `{% url %}` tags a row, 25 rows a page, were ~3 ms of the page."""
    prefix = get_script_prefix()
    patterns = _link_patterns.get(prefix)
    if patterns is None:
        patterns = {name: reverse(route, args=[_SENTINEL]) for name, route in RUN_LINKS.items()}
        _link_patterns[prefix] = patterns
    pk = str(run_id)
    return {name: pattern.replace(_SENTINEL, pk) for name, pattern in patterns.items()}


@register.simple_tag
def ci_bar(score: float | None, interval: tuple[float, float] | None) -> SafeString | str:
    """The weighted score on a 0–1 track with its 95% interval as a band (decorative: the numbers are text)."""
    if score is None:
        return ""
    low, high = interval if interval else (score, score)
    return format_html(
        '<svg class="ci-bar" viewBox="0 0 {w} 10" width="{w}" height="10" aria-hidden="true" focusable="false">'
        '<rect class="ci-track" x="0" y="4" width="{w}" height="2"></rect>'
        '<rect class="ci-band" x="{x}" y="1" width="{band}" height="8" rx="2"></rect>'
        '<rect class="ci-point" x="{at}" y="0" width="2" height="10"></rect></svg>',
        w=BAR_WIDTH, x=_at(low), band=max(1.0, round(_at(high) - _at(low), 1)), at=max(0.0, _at(score) - 1),
    )


def _at(value: float) -> float:
    return round(min(1.0, max(0.0, value)) * BAR_WIDTH, 1)


@register.simple_tag
def sort_query(board: BoardPage, column: str) -> str:
    """The query string a column header links to: this column, descending first; again: the other way."""
    if column == board.sort:
        return f"sort={column}&dir={'asc' if board.descending else 'desc'}"
    return f"sort={column}&dir=desc"


@register.simple_tag
def aria_sort(board: BoardPage, column: str) -> str:
    if column != board.sort:
        return "none"
    return "descending" if board.descending else "ascending"


@register.simple_tag
def page_query(board: BoardPage, number: int) -> str:
    return f"sort={board.sort}&dir={'desc' if board.descending else 'asc'}&page={number}"


@register.filter
def value_label(value: object) -> str:
    return charts.value_label(value)


@register.filter
def full_value(value: object) -> str:
    return "" if value is None else str(value)


@register.simple_tag
def score_charts(chart: ChartData, axes: list[str]) -> list[charts.Plot]:
    return charts.score_charts(chart, axes)


@register.simple_tag
def chart_dots(plot: charts.Plot) -> SafeString:
    """A plot's dots as SVG circles titled with their score (hundreds a plot: one join, not a template loop)."""
    return format_html_join("", '<circle class="dot" cx="{}" cy="{}" r="3"><title>{}</title></circle>',
                            ((dot.x, dot.y, dot.title) for dot in plot.dots))


@register.simple_tag
def weighted_column() -> str:
    return WEIGHTED

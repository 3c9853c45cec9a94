"""Drawing helpers for the leaderboard and score chart (web/experiments/leaderboard.html)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.runs.board import WEIGHTED, BoardPage, ChartData
from apps.web import charts
from apps.web.leaderboard_row import row_html

register = template.Library()

BAR_WIDTH = 100


@register.simple_tag(takes_context=True)
def leaderboard_row(context) -> SafeString:
    """The `leaderboard-row` partial's row, built by apps/web/leaderboard_row.py (what `{% csrf_token %}`
    would print goes in each of its forms)."""
    row, token = context["row"], context.get("csrf_token")
    csrf = (format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
            if token and token != "NOTPROVIDED" else "")
    return row_html(row, can_write=bool(context.get("can_write")), csrf_input=csrf,
                    ci_bar=ci_bar(row.weighted_score, row.weighted_ci))


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

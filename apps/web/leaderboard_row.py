"""One leaderboard row's HTML (the `leaderboard-row` partial of web/experiments/leaderboard.html).

Built in Python rather than by the template language: a page holds 25 rows of ~45 substitutions each, and
the template engine spent 7 of the live view's 15 ms of rendering on them (bench/pages.py); this builds a
row in a tenth of that. Every value goes through `format_html` (escaped); the markup is the partial's, so
the page, the approve/reject answers and the live pushes (apps/live/rows.py) render one and the same row.
"""

from __future__ import annotations

from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from apps.runs.board import BoardRow
from apps.web.charts import value_label
from apps.web.templatetags.web_format import score  # the `score` filter: three decimals, or "–"

LINKS = {"detail": "web:run", "approve": "web:run_approve", "clear_approval": "web:run_clear_approval",
         "reject": "web:run_reject", "fork": "web:run_fork"}
_SENTINEL = "00000000-0000-0000-0000-000000000000"
_patterns: dict[str, dict[str, str]] = {}  # script prefix → link name → its URL with the sentinel for the run

NEAR_UNTESTED = "Its 95% interval overlaps #1’s: not clearly worse than the best run"
NEAR_TESTED = ("Its 95% interval overlaps #1’s, and paired by item it is not significantly worse (p = {}): "
               "indistinguishable from the best run")
BELOW = "Its 95% interval overlaps #1’s, but paired by item it is significantly worse (p = {})"
TIE = ' <span class="lb-mark" title="Equal weighted score: shares its rank">tie</span>'
PARTIAL = (' <span class="lb-mark lb-partial" title="Scored on a subset of the items (a halving rung): ranked after '
           'every run on all items">partial</span>')


def run_links(run_id: object) -> dict[str, str]:
    """A row's links, reversed once per process and script prefix and filled in per row."""
    prefix = get_script_prefix()
    patterns = _patterns.get(prefix)
    if patterns is None:
        patterns = {name: reverse(route, args=[_SENTINEL]) for name, route in LINKS.items()}
        _patterns[prefix] = patterns
    pk = str(run_id)
    return {name: pattern.replace(_SENTINEL, pk) for name, pattern in patterns.items()}


def _rank_marks(row: BoardRow) -> SafeString:
    marks = TIE if row.tied else ""
    if row.near_leader:
        p = "None" if row.best_p_value is None else f"{row.best_p_value:.2g}"
        if row.tied_with_best:
            title = NEAR_UNTESTED if row.best_p_value is None else NEAR_TESTED.format(p)
            marks += format_html(' <span class="lb-mark lb-near" title="{}">≈ #1</span>', title)
        else:
            marks += format_html(' <span class="lb-mark lb-below" title="{}">&lt; #1</span>', BELOW.format(p))
    return mark_safe(marks)  # noqa: S308 (constants and format_html output)


def _forms(row: BoardRow, links: dict[str, str], csrf: SafeString, dom: str) -> SafeString:
    rank = row.rank
    if row.approved:
        first = format_html(
            '<form method="post" class="inline" action="{url}" hx-post="{url}" hx-target="#{dom}" hx-swap="outerHTML" '
            'hx-confirm="Clear the approval of run #{rank}? It goes back to no decision.">{csrf}'
            '<button type="submit" class="link">Clear approval<span class="visually-hidden"> of run #{rank}</span>'
            '</button></form>', url=links["clear_approval"], dom=dom, rank=rank, csrf=csrf)
    else:
        first = format_html(
            '<form method="post" class="inline" action="{url}" hx-post="{url}" hx-target="#{dom}" hx-swap="outerHTML" '
            'hx-confirm="Approve run #{rank}? It is preferred when its configuration is exported.">{csrf}'
            '<button type="submit" class="link">Approve<span class="visually-hidden"> run #{rank}</span></button>'
            '</form>', url=links["approve"], dom=dom, rank=rank, csrf=csrf)
    return format_html(
        '{first}\n      <form method="post" class="inline" action="{url}" hx-post="{url}" hx-target="#{dom}" '
        'hx-swap="outerHTML" hx-confirm="Reject run #{rank}? It leaves the leaderboard.">{csrf}'
        '<button type="submit" class="link">Reject<span class="visually-hidden"> run #{rank}</span></button></form>'
        '\n      <a href="{fork}">Fork<span class="visually-hidden"> run #{rank}</span></a>',
        first=first, url=links["reject"], dom=dom, rank=rank, csrf=csrf, fork=links["fork"])


def row_html(row: BoardRow, *, can_write: bool, csrf_input: SafeString | str, ci_bar: SafeString | str) -> SafeString:
    """The row; `csrf_input` is the page's hidden CSRF field ("" in a push, which has no request)."""
    run, rank, dom = row.run, row.rank, row.dom_id
    pk = str(run.pk)
    links = run_links(pk)
    interval = (format_html('<span class="muted lb-ci">{}–{}</span>', score(row.weighted_ci[0]),
                            score(row.weighted_ci[1])) if row.weighted_ci else "")
    scores = mark_safe("".join(format_html('<span role="cell" class="num">{}</span>', score(value))
                               for value in row.scores))  # noqa: S308 (format_html output)
    point = mark_safe("".join(format_html('<span role="cell" title="{}">{}</span>',
                                          "" if value is None else str(value), value_label(value))
                              for value in row.point))  # noqa: S308 (format_html output)
    approved = row.approved
    return format_html(
        '<div role="row" class="lb-row{approved_class}" id="{dom}" data-rank="{rank}">\n'
        '  <span role="cell"><input type="checkbox" name="run" value="{pk}" form="leaderboard-compare"'
        ' id="pick-{pk}">\n'
        '    <label for="pick-{pk}" class="visually-hidden">Compare run #{rank}</label></span>\n'
        '  <span role="cell" class="num lb-rank">#{rank}{marks}</span>\n'
        '  <span role="cell" class="lb-score"><span class="num">{score}</span>{ci_bar}\n    {interval}</span>\n'
        '  <span role="cell" class="num">{n}</span>\n'
        '  <span role="cell" class="num lb-items">{items}{partial}</span>\n'
        '  {scores}\n  {point}\n'
        '  <span role="cell"><span class="badge badge-{status}">{status_label}</span>{approved_badge}</span>\n'
        '  <span role="cell" class="lb-actions">\n'
        '    <a class="lb-expand" href="{detail}" hx-get="{detail}" hx-select="#run-summary"'
        ' hx-target="#run-detail-{pk}" hx-swap="innerHTML" aria-expanded="false" aria-controls="run-detail-{pk}">'
        'Details<span class="visually-hidden"> of run #{rank}</span></a>\n'
        '      {forms}\n'
        '  </span>\n'
        '  <div class="lb-detail" id="run-detail-{pk}" hx-preserve="true" aria-live="polite"></div>\n'
        '</div>',
        approved_class=" lb-approved" if approved else "", dom=dom, rank=rank, pk=pk, marks=_rank_marks(row),
        score=score(row.weighted_score), ci_bar=ci_bar, interval=interval, n=row.n,
        items="—" if row.items_scored is None else row.items_scored, partial=mark_safe(PARTIAL) if row.partial else "",
        scores=scores, point=point, status=run.status, status_label=run.get_status_display(),
        approved_badge=mark_safe(' <span class="badge badge-approved">Approved</span>') if approved else "",
        detail=links["detail"], forms=_forms(row, links, mark_safe(csrf_input), dom) if can_write else "",
    )

"""List regions whose pushes carry only the rows that changed (the leaderboard).

Design (docs/decisions.md, "Leaderboard pushes send changed rows"): the push renders the first page's rows
in the default order, each by the page's own row partial, and compares them with what this process last
pushed to the same group and audience (a small memo). Only rows whose HTML differs go out, inside the
region's hidden inbox element (swapped out-of-band by its id), with the page's row order and total as
attributes. static/js/leaderboard.js moves each row into the table (replacing the row with its id, or
adding it), removes rows that left the page, restores the order, and reloads the region when the order
names a row the page lacks (a page opened between two pushes, or another process's publisher pushed).
Rows are div-based ARIA rows because a bare <tr> in a pushed message would not parse outside a table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

MEMO_GROUPS = 256  # groups remembered per process (each: one page of row HTML per audience)

_memo: OrderedDict[tuple[str, bool], tuple[tuple[str, ...], dict[str, str]]] = OrderedDict()
_lock = threading.Lock()


def rows_render(*, template: str, row_template: str, context: dict[str, Any], key: tuple[str, bool]) -> str:
    """The inbox with the rows that changed since this process's last push for `key`; "" when none did."""
    rendered = {row.dom_id: render_to_string(row_template, {**context, "row": row}).strip()
                for row in context["rows"]}
    order = tuple(rendered)
    with _lock:
        previous = _memo.pop(key, None)
        _memo[key] = (order, rendered)
        while len(_memo) > MEMO_GROUPS:
            _memo.popitem(last=False)
    before = previous[1] if previous else {}
    changed = [html for dom_id, html in rendered.items() if before.get(dom_id) != html]
    if previous is not None and not changed and previous[0] == order:
        return ""
    rows_html = mark_safe("".join(changed))  # noqa: S308 (each row was rendered, and escaped, by its template)
    return render_to_string(template, {**context, "order": " ".join(order), "changed_html": rows_html})


def rows_forget() -> None:
    """Drop the memo (tests; the next push of every group sends all its rows)."""
    with _lock:
        _memo.clear()

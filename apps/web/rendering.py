"""Rendering shared by the pages: the whole page, or one partial for htmx; list pagination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.feeds import FeedPage, feed_page

PER_PAGE = 25


def render_page(request: HttpRequest, template: str, context: dict[str, Any], *,
                partials: Sequence[str] = (), status: int = 200) -> HttpResponse:
    """The page, or for an htmx request (not boosted) the partial its HX-Target names (else the first one).

    Partials are named after the DOM id they replace, so the target id is the partial's name.
    """
    if partials and request.htmx and not request.htmx.boosted:
        target = request.htmx.target if request.htmx.target in partials else partials[0]
        template = f"{template}#{target}"
    return render(request, template, context, status=status)


def paginate(request: HttpRequest, items: QuerySet | Sequence, *,
             param: str = "page", per_page: int = PER_PAGE) -> Page:
    """One page of `items` by the `param` query parameter (out of range or junk: the nearest valid page)."""
    return Paginator(items, per_page).get_page(request.GET.get(param))


def paginate_feed(request: HttpRequest, items: QuerySet, *, param: str = "page",
                  per_page: int = PER_PAGE) -> FeedPage | Page:
    """One page of a feed by the `param` query parameter, reading one row past it rather than counting; past
    the end (or junk), what `paginate` answers: the nearest valid page."""
    try:
        number = int(request.GET.get(param) or 1)
    except ValueError:
        number = 0
    if number >= 1:
        page = feed_page(items, number=number, per_page=per_page)
        if page.object_list or number == 1:
            return page
    return paginate(request, items, param=param, per_page=per_page)

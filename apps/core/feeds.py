"""Pages of a feed (newest first, ever growing), read without counting every row: the live view's timeline,
the dashboard's activity, and their live pushes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class FeedPage:
    """A page of a feed (newest first, ever growing): Previous/Next without counting every row. The pager
    shows "Page N", not "of M": counting 20,000 events was the largest query of the live view."""

    object_list: list
    number: int
    has_next: bool
    paginator: None = None  # no count, so no "of M" (web/pager.html)

    def __iter__(self) -> Iterator:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def feed_page(items: QuerySet, *, number: int, per_page: int) -> FeedPage:
    """Page `number` (from 1) of `items`: one row past it is read to tell whether a next page exists."""
    start = (number - 1) * per_page
    rows = list(items[start : start + per_page + 1])
    return FeedPage(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)

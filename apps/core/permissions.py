"""Who reads which rows: one visibility rule for every selector of user-owned data."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from apps.core.types import Viewer

M = TypeVar("M", bound=Model)


def visible_to(
    queryset: QuerySet[M], user: Viewer, *, owner: str = "owner", guest_readable: bool = True
) -> QuerySet[M]:
    """The rows `user` owns (through the `owner` field path, e.g. "experiment__project__owner").

    An anonymous reader is a guest: views let one through only while guest access is on (and only to
    `guest_readable` views), and a guest reads every user's rows, or none of data that is never
    guest-readable (endpoints, webhooks).
    """
    if user.is_authenticated:
        return queryset.filter(**{owner: user})
    return queryset if guest_readable else queryset.none()

"""Reads of the timeline, shared by REST, HTML, live updates and MCP."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import QuerySet

from apps.activity.models import Event
from apps.core.permissions import visible_to
from apps.core.types import Viewer

DASHBOARD_LIMIT = 50


def event_list(*, user: Viewer, kinds: Iterable[str] | None = None) -> QuerySet[Event]:
    """Events the user may read, newest first: their own; a guest (anonymous, guest access on) reads all."""
    qs = visible_to(Event.objects.all(), user)
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    return qs.order_by("-id")


def timeline_for_experiment(
    *, user: Viewer, experiment_id: uuid.UUID | str, kinds: Iterable[str] | None = None
) -> QuerySet[Event]:
    """One experiment's timeline (empty for an experiment the user may not read)."""
    return event_list(user=user, kinds=kinds).filter(experiment_id=experiment_id)


def timeline_for_sweep(
    *, user: Viewer, sweep_id: uuid.UUID | str, kinds: Iterable[str] | None = None
) -> QuerySet[Event]:
    """One sweep's timeline (empty for a sweep the user may not read)."""
    return event_list(user=user, kinds=kinds).filter(sweep_id=sweep_id)


def dashboard_feed(*, user: Viewer, kinds: Iterable[str] | None = None, limit: int = DASHBOARD_LIMIT) -> list[Event]:
    """The global activity feed: the newest events across every experiment the user may read."""
    return list(event_list(user=user, kinds=kinds).select_related("experiment")[:limit])

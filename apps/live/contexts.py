"""Template contexts of the pushed fragments, built from the same selectors the pages use.

A push re-renders a region as its page's first page shows it (no request: no page number).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

from apps.activity.kinds import Kind
from apps.activity.selectors import dashboard_feed, event_list, timeline_for_experiment
from apps.core.types import Viewer
from apps.live.groups import Target
from apps.runs.summaries import active_sweeps, user_totals

FEED_LIMIT = 20
# The dashboard page's list sizes (web/dashboard.html): the pushed first page matches the page's.
DASHBOARD_FEED_PER_PAGE = 25
DASHBOARD_SWEEPS_PER_PAGE = 10
DASHBOARD_BESTS = 5


def dashboard_feed_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    events = event_list(user=viewer).select_related("experiment")
    return {"feed": Paginator(events, DASHBOARD_FEED_PER_PAGE).get_page(1)}


def dashboard_sweeps_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"sweeps": Paginator(active_sweeps(user=viewer), DASHBOARD_SWEEPS_PER_PAGE).get_page(1)}


def dashboard_totals_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"totals": user_totals(user=viewer)}


def dashboard_bests_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"bests": dashboard_feed(user=viewer, kinds=[Kind.NEW_BEST], limit=DASHBOARD_BESTS)}


def experiment_timeline_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    events = timeline_for_experiment(user=viewer, experiment_id=target.experiment_id or "").select_related("experiment")
    return {"events": list(events[:FEED_LIMIT])}

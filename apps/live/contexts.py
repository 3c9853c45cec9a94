"""Template contexts of the pushed fragments, built from the same selectors the pages use.

A push re-renders a region as its page's first page shows it (no request: no page number).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator

from apps.activity.kinds import Kind
from apps.activity.selectors import dashboard_feed, event_list, timeline_for_experiment
from apps.core.feeds import feed_page
from apps.core.types import Viewer
from apps.experiments.models import Experiment
from apps.experiments.selectors import experiment_get
from apps.live.groups import Target
from apps.runs.board import board_page, chart_data
from apps.runs.summaries import active_sweeps, sweep_progress, user_totals

# The dashboard page's list sizes (web/dashboard.html): the pushed first page matches the page's.
DASHBOARD_FEED_PER_PAGE = 25
DASHBOARD_SWEEPS_PER_PAGE = 10
DASHBOARD_BESTS = 5
EXPERIMENT_TIMELINE_PER_PAGE = 20  # the live view's (apps/web/views/experiment_live.py)


def dashboard_feed_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    events = event_list(user=viewer).select_related("experiment")
    return {"feed": feed_page(events, number=1, per_page=DASHBOARD_FEED_PER_PAGE)}


def dashboard_sweeps_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"sweeps": Paginator(active_sweeps(user=viewer), DASHBOARD_SWEEPS_PER_PAGE).get_page(1)}


def dashboard_totals_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"totals": user_totals(user=viewer)}


def dashboard_bests_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"bests": dashboard_feed(user=viewer, kinds=[Kind.NEW_BEST], limit=DASHBOARD_BESTS)}


def _experiment(viewer: Viewer, target: Target) -> Experiment:
    return experiment_get(user=viewer, experiment_id=target.experiment_id or "")


def experiment_timeline_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    """The live view's timeline as its first page shows it, unfiltered."""
    events = timeline_for_experiment(user=viewer, experiment_id=target.experiment_id or "")
    return {"experiment": _experiment(viewer, target), "event_kinds": list(Kind), "kind": "",
            "events": feed_page(events, number=1, per_page=EXPERIMENT_TIMELINE_PER_PAGE),
            "timeline_query": ""}


def experiment_progress_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    experiment = _experiment(viewer, target)
    return {"experiment": experiment, "progress": sweep_progress(experiment=experiment)}


def experiment_leaderboard_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    """The leaderboard's first page in the default order (what apps/live/rows.py diffs)."""
    experiment = _experiment(viewer, target)
    board = board_page(experiment=experiment, viewer=viewer)
    return {"experiment": experiment, "board": board, "rows": board.rows}


def experiment_chart_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    experiment = _experiment(viewer, target)
    return {"experiment": experiment, "chart": chart_data(experiment=experiment),
            "chart_axes": [axis.path for axis in experiment.spec.space]}

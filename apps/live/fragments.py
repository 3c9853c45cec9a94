"""Which page regions a push re-renders: per scope, a list of (template partial, DOM id) with its context.

A partial's root element carries the DOM id it replaces (STYLE.md), so HTMX's ws extension swaps
the pushed element out-of-band by that id. Add a region by adding one `Fragment` line; `kinds`
limits it to the events that change it (None: every event).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.live import contexts
from apps.live.groups import Scope

ContextBuilder = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Fragment:
    template: str  # "<template>#<partial>", as the page renders it
    dom_id: str
    context: ContextBuilder  # (viewer=, target=) -> the partial's context
    kinds: frozenset[str] | None = None
    rows: str | None = None  # a list region: its row partial; pushes send only changed rows (apps/live/rows.py)

    def wanted_by(self, events: Iterable[Event]) -> bool:
        return self.kinds is None or any(event.kind in self.kinds for event in events)


# Which events change a dashboard region (the feed shows every event).
SWEEP_KINDS = frozenset(kind.value for kind in Kind if kind.value.startswith("experiment.")) | {
    Kind.RUN_STARTED, Kind.RUN_COMPLETED, Kind.RUN_CACHED, Kind.RUN_FAILED, Kind.GUIDED_BATCH,
    Kind.BUDGET_EXHAUSTED, Kind.DRIVER_CRASHED,
}
TOTALS_KINDS = frozenset({
    Kind.RUN_COMPLETED, Kind.RUN_CACHED, Kind.RUN_FAILED,
    Kind.SWEEP_COMPLETED, Kind.SWEEP_STOPPED, Kind.SWEEP_FAILED, Kind.SWEEP_PAUSED,
})
BESTS_KINDS = frozenset({Kind.NEW_BEST})
# A sweep begins or ends: the live view's start panel goes or comes back.
START_KINDS = frozenset({Kind.SWEEP_STARTED, Kind.SWEEP_COMPLETED, Kind.SWEEP_STOPPED, Kind.SWEEP_FAILED})
# What changes a run's leaderboard row or the score chart.
SCORE_KINDS = frozenset({
    Kind.RUN_COMPLETED, Kind.RUN_CACHED, Kind.RUN_FAILED, Kind.NEW_BEST, Kind.RUN_APPROVED, Kind.RUN_REJECTED,
    Kind.RUN_APPROVAL_CLEARED, Kind.RUN_RATED, Kind.RESCORE_PROGRESS, Kind.RESCORE_COMPLETED,
})

# The dashboard's regions are the page's own partials (web/dashboard.html), shared by template name.
FRAGMENTS: dict[Scope, list[Fragment]] = {
    "dashboard": [
        Fragment("web/dashboard.html#dashboard-feed", "dashboard-feed", contexts.dashboard_feed_context),
        Fragment("web/dashboard.html#dashboard-sweeps", "dashboard-sweeps", contexts.dashboard_sweeps_context,
                 SWEEP_KINDS),
        Fragment("web/dashboard.html#dashboard-totals", "dashboard-totals", contexts.dashboard_totals_context,
                 TOTALS_KINDS),
        Fragment("web/dashboard.html#dashboard-bests", "dashboard-bests", contexts.dashboard_bests_context,
                 BESTS_KINDS),
    ],
    "experiment": [
        Fragment("web/experiments/live.html#experiment-timeline", "experiment-timeline",
                 contexts.experiment_timeline_context),
        Fragment("web/experiments/live.html#experiment-progress", "experiment-progress",
                 contexts.experiment_progress_context, SWEEP_KINDS),
        Fragment("web/experiments/live.html#experiment-start", "experiment-start",
                 contexts.experiment_progress_context, START_KINDS),
        Fragment("web/experiments/leaderboard.html#leaderboard-inbox", "leaderboard-inbox",
                 contexts.experiment_leaderboard_context, SCORE_KINDS,
                 rows="web/experiments/leaderboard.html#leaderboard-row"),
        Fragment("web/experiments/leaderboard.html#experiment-chart", "experiment-chart",
                 contexts.experiment_chart_context, SCORE_KINDS),
    ],
}

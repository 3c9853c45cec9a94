"""Which page regions a push re-renders: per scope, a list of (template partial, DOM id) with its context.

A partial's root element carries the DOM id it replaces (STYLE.md), so HTMX's ws extension swaps
the pushed element out-of-band by that id. Add a region by adding one `Fragment` line; `kinds`
limits it to the events that change it (None: every event).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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

    def wanted_by(self, events: Iterable[Event]) -> bool:
        return self.kinds is None or any(event.kind in self.kinds for event in events)


# Hand-over: when the dashboard page (web/dashboard.html) exists, point these lines at its partials
# (web/dashboard.html#dashboard-feed, #dashboard-sweeps, #dashboard-totals) with matching contexts.
FRAGMENTS: dict[Scope, list[Fragment]] = {
    "dashboard": [
        Fragment("live/feeds.html#dashboard-feed", "dashboard-feed", contexts.dashboard_feed_context),
    ],
    "experiment": [
        Fragment("live/feeds.html#experiment-timeline", "experiment-timeline", contexts.experiment_timeline_context),
    ],
}

"""Template contexts of the pushed fragments, built from the same selectors the pages use."""

from __future__ import annotations

from typing import Any

from apps.activity.selectors import dashboard_feed, timeline_for_experiment
from apps.core.types import Viewer
from apps.live.groups import Target

FEED_LIMIT = 20


def dashboard_feed_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    return {"events": dashboard_feed(user=viewer, limit=FEED_LIMIT)}


def experiment_timeline_context(*, viewer: Viewer, target: Target) -> dict[str, Any]:
    events = timeline_for_experiment(user=viewer, experiment_id=target.experiment_id or "").select_related("experiment")
    return {"events": list(events[:FEED_LIMIT])}

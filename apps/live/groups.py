"""Who receives an event: Channels group names and the audiences rendered for each group.

A user must only ever receive their own data, so the dashboard is one group per user
(`dashboard-<user id>`) plus `dashboard-guest` for anonymous guests (who read every user's rows while
guest access is on). An experiment has one owner, so owner and guests share `experiment-<id>`; each
push carries one HTML rendering per audience and a consumer forwards the one for its audience.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from apps.activity.models import Event
from apps.core.models import SystemSettings

Scope = Literal["dashboard", "experiment"]
Audience = Literal["owner", "guest"]

GUEST_DASHBOARD = "dashboard-guest"


def guests_allowed() -> bool:
    """Whether guest access is on, read without creating the settings row (publishing never writes)."""
    return bool(SystemSettings.objects.filter(pk=1).values_list("allow_guest_access", flat=True).first())


def dashboard_group(user_id: object) -> str:
    return f"dashboard-{user_id}"


def experiment_group(experiment_id: object) -> str:
    return f"experiment-{experiment_id}"


@dataclass(frozen=True)
class Target:
    """One group to push to: which page region it serves and whose view of the data it gets."""

    group: str
    scope: Scope
    owner_id: str | None  # the signed-in reader rendered for the owner audience; None: guests only
    experiment_id: str | None = None
    guests: bool = False  # also render (and deliver) the read-only guest view


def targets_for(events: Iterable[Event], *, guests: bool) -> dict[Target, list[Event]]:
    """The groups each event goes to, with the events for each, in order."""
    routed: dict[Target, list[Event]] = {}
    for event in events:
        owner = str(event.owner_id)
        found = [Target(dashboard_group(owner), "dashboard", owner)]
        if guests:
            found.append(Target(GUEST_DASHBOARD, "dashboard", None, guests=True))
        if event.experiment_id is not None:
            experiment = str(event.experiment_id)
            found.append(Target(experiment_group(experiment), "experiment", owner, experiment, guests=guests))
        for target in found:
            routed.setdefault(target, []).append(event)
    return routed

"""Automatic tracking from the gateway: a system prompt no version holds becomes the active version."""

from __future__ import annotations

from typing import Any

from apps.deployments.selectors.routes import VersionRoute, route_deployment, route_table_forget, version_route
from apps.deployments.services.versions import version_track


def track_prompt(*, deployment_id: Any, prompt: str) -> VersionRoute | None:
    """Runs on the gateway's writer thread, only on a miss against the table's known prompts."""
    deployment = route_deployment(deployment_id=deployment_id)
    if deployment is None:
        return None
    version = version_track(deployment=deployment, system_prompt=prompt)
    if version is None:  # tracked by another process meanwhile (its revision bump reloads the table), or untrackable
        return None
    route_table_forget(deployment_id=deployment_id)
    return version_route(version)

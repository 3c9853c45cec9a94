"""Endpoint ids are their owner's: who may see them, and run-shaped data with them masked.

The masking itself is `apps.experiments.secrets`'s (null in place, so shapes match the schema);
this module adds the one rule for when to apply it and the shapes runs, sweeps and saved configs have.
"""

from __future__ import annotations

import re

from apps.experiments.secrets import point_endpoints_masked, space_endpoints_masked, stages_endpoints_masked

# Run errors name the endpoint a stage could not use ("endpoint <id> is not available").
_ENDPOINT_IN_TEXT = re.compile(r"(endpoint )[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def endpoints_hidden(*, viewer, owner_id) -> bool:
    """True unless the viewer owns the data (guests, and callers that name no viewer, see no ids)."""
    return getattr(viewer, "pk", None) is None or viewer.pk != owner_id


def run_config_masked(config: dict) -> dict:
    """A run config (`{"stages": [...]}`) with every stage's endpoint set to None."""
    config = config or {}
    return {**config, "stages": stages_endpoints_masked(config["stages"])} if "stages" in config else config


def text_endpoints_masked(text: str) -> str:
    """An error message with each `endpoint <uuid>` shown as `endpoint (hidden)`."""
    return _ENDPOINT_IN_TEXT.sub(r"\1(hidden)", text) if text else text


def _names_endpoint(path: str) -> bool:
    """Whether a dotted path names an endpoint, as the experiments helper decides (`….endpoint`)."""
    return point_endpoints_masked({path: path})[path] is None


def diff_endpoints_masked(changes: dict[str, dict], *, sides: tuple[str, ...]) -> dict[str, dict]:
    """A config diff ({path: {"a": …, "b": …}}) with the endpoint values of the given sides set to None.

    The entry stays, so a reader still learns that the endpoint differs.
    """
    masked = {}
    for path, change in changes.items():
        masked[path] = {**change, **{side: None for side in sides}} if _names_endpoint(path) else change
    return masked


def saved_config_masked(value):
    """A saved config (free-form JSON) with every endpoint id set to None wherever it sits.

    Saved configs are whatever the owner posted (a run config, a point, a whole experiment), so
    every dict is masked as stages, a point and a parameter space would be.
    """
    if isinstance(value, list):
        return [saved_config_masked(v) for v in space_endpoints_masked(value)]
    if not isinstance(value, dict):
        return value
    return {key: None if key == "endpoint" or _names_endpoint(str(key)) else saved_config_masked(child)
            for key, child in value.items()}

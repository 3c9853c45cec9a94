"""Webhook scorer headers usually carry credentials: never echo their values back.

Responses show each header value as MASK; an update that sends MASK back keeps the stored value,
so a client can round-trip an experiment (GET, edit, PUT) without knowing the secret. Readers
other than the owner (guests) see no endpoint ids either.
"""

from __future__ import annotations

import copy

MASK = "[set]"


def _webhook_scorers(config: dict):
    for scorer in (config or {}).get("scorers", []) or []:
        if isinstance(scorer, dict) and scorer.get("type") == "webhook" and isinstance(scorer.get("options"), dict):
            yield scorer


def scoring_config_masked(config: dict) -> dict:
    masked = copy.deepcopy(config or {})
    for scorer in _webhook_scorers(masked):
        headers = scorer["options"].get("headers")
        if isinstance(headers, dict):
            scorer["options"]["headers"] = {name: MASK for name in headers}
    return masked


def scoring_config_unmask(new: dict, old: dict) -> dict:
    """`new` with every MASK header value replaced by the stored value of the same scorer and header."""
    stored = {s.get("name") or s["type"]: s["options"].get("headers") or {} for s in _webhook_scorers(old)}
    result = copy.deepcopy(new)
    for scorer in _webhook_scorers(result):
        headers = scorer["options"].get("headers")
        previous = stored.get(scorer.get("name") or scorer["type"], {})
        if isinstance(headers, dict):
            scorer["options"]["headers"] = {
                name: previous.get(name, value) if value == MASK else value for name, value in headers.items()
            }
    return result


def _is_endpoint_path(path) -> bool:
    return isinstance(path, str) and path.endswith(".endpoint")


def stages_endpoints_masked(stages) -> list:
    """Pipeline stages (or a run config's `stages`) with each `endpoint` set to None."""
    return [{**stage, "endpoint": None} if isinstance(stage, dict) and "endpoint" in stage else stage
            for stage in stages or []]


def point_endpoints_masked(point: dict) -> dict:
    """A run's point with the value of every `stages.<i>.endpoint` set to None."""
    return {path: None if _is_endpoint_path(path) else value for path, value in (point or {}).items()}


def space_endpoints_masked(space) -> list:
    """A parameter space with every value of an endpoint axis set to None (the count stays)."""
    return [{**axis, "values": [None for _ in axis["values"] or []]}
            if isinstance(axis, dict) and _is_endpoint_path(axis.get("path")) and isinstance(axis.get("values"), list)
            else axis for axis in space or []]


def endpoint_ids_masked(data: dict) -> dict:
    """An experiment's output with every endpoint id (stages, endpoint axes, scorer options) set to None.

    For readers other than the owner (guests): an endpoint id is the owner's, not theirs to see.
    """
    masked = copy.deepcopy(data)
    if "pipeline_stages" in masked:
        masked["pipeline_stages"] = stages_endpoints_masked(masked["pipeline_stages"])
    if "parameter_space" in masked:
        masked["parameter_space"] = space_endpoints_masked(masked["parameter_space"])
    for scorer in (masked.get("scoring_config") or {}).get("scorers", []) or []:
        options = scorer.get("options") if isinstance(scorer, dict) else None
        if isinstance(options, dict) and "endpoint" in options:
            options["endpoint"] = None
    return masked

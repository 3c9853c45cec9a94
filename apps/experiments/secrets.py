"""Scorer options that carry credentials (a scorer's `secret_options`, e.g. webhook headers) are never
echoed back.

Responses show each secret value as MASK (an object option has each of its values masked); an
update that sends MASK back keeps the stored value, so a client can round-trip an experiment (GET,
edit, PUT) without knowing the secret. Readers other than the owner (guests) see no endpoint ids
either. These functions rewrite the stored JSON as it is shown; the typed spec is not involved.
"""

from __future__ import annotations

import copy

from apps.engine.scorers import SCORERS

MASK = "[set]"


def _secret_options(config: dict):
    """(scorer dict, names of its secret options present) for every scorer with secrets in `config`."""
    for scorer in (config or {}).get("scorers", []) or []:
        kind = scorer.get("type") if isinstance(scorer, dict) else None
        if kind in SCORERS and isinstance(scorer.get("options"), dict):
            names = [name for name in SCORERS.get(kind).secret_options if name in scorer["options"]]
            if names:
                yield scorer, names


def _masked(value):
    return {key: MASK for key in value} if isinstance(value, dict) else MASK


def _unmasked(value, previous):
    if isinstance(value, dict):
        previous = previous if isinstance(previous, dict) else {}
        return {key: previous.get(key, item) if item == MASK else item for key, item in value.items()}
    return previous if value == MASK and previous is not None else value


def scoring_config_masked(config: dict) -> dict:
    masked = copy.deepcopy(config or {})
    for scorer, names in _secret_options(masked):
        for name in names:
            if scorer["options"][name] is not None:
                scorer["options"][name] = _masked(scorer["options"][name])
    return masked


def scoring_config_unmask(new: dict, old: dict) -> dict:
    """`new` with every MASK value replaced by the stored value of the same scorer and option."""
    stored = {scorer.get("name") or scorer["type"]: scorer["options"] for scorer, _ in _secret_options(old)}
    result = copy.deepcopy(new)
    for scorer, names in _secret_options(result):
        previous = stored.get(scorer.get("name") or scorer["type"], {})
        for name in names:
            scorer["options"][name] = _unmasked(scorer["options"][name], previous.get(name))
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

"""Webhook scorer headers usually carry credentials: never echo their values back.

Responses show each header value as MASK; an update that sends MASK back keeps the stored value,
so a client can round-trip an experiment (GET, edit, PUT) without knowing the secret.
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

"""Secret scorer options in experiment files: `${ENV:NAME}` placeholders, resolved from the environment.

The server never shows a secret option (a webhook scorer's headers): it answers MASK. `pull` writes a
placeholder there instead, and `apply` puts the variable's value back, so a pulled file can be kept in
git and applied elsewhere without the secret in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

MASK = "[set]"  # what the server shows for a secret value (apps/experiments/secrets.py)
PLACEHOLDER = re.compile(r"^\$\{ENV:([A-Za-z_][A-Za-z0-9_]*)\}$")


def env_name(*parts: str) -> str:
    """REVIEW_HOOK_HEADERS_AUTHORIZATION for ("review_hook", "headers", "Authorization")."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_").upper() for part in parts if part)


def masked_to_placeholders(scorers: list) -> list[str]:
    """Replace every MASK in the scorers' options by a placeholder (in place); the variables it names."""
    names: list[str] = []
    for scorer in scorers:
        options = scorer.get("options") if isinstance(scorer, dict) else None
        if not isinstance(options, dict):
            continue
        prefix = str(scorer.get("name") or scorer.get("type") or "scorer")
        for option, value in options.items():
            if value == MASK:
                names.append(env_name(prefix, option))
                options[option] = f"${{ENV:{names[-1]}}}"
            elif isinstance(value, dict):
                for key, item in value.items():
                    if item == MASK:
                        names.append(env_name(prefix, option, str(key)))
                        value[key] = f"${{ENV:{names[-1]}}}"
    return names


def placeholders(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, variable name) of every placeholder inside `value`."""
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        if match:
            yield path, match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from placeholders(item, (*path, index))


def resolved(value: Any, env: Mapping[str, str]) -> Any:
    """`value` with each placeholder replaced by its variable (missing ones are left: they were reported)."""
    if isinstance(value, str):
        match = PLACEHOLDER.match(value)
        return env.get(match.group(1), value) if match else value
    if isinstance(value, dict):
        return {key: resolved(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, env) for item in value]
    return value

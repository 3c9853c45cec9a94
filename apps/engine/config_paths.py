"""Read and write a run config by dotted path (``stages.1.params.temperature``) without mutating it.

A path is split on dots, except that everything after ``stages.<i>.params.`` is one parameter
name: provider extras may contain dots (see ``params.param_name_error``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from apps.engine.hashing import canonical_json

_PARAM_PATH = re.compile(r"^stages\.(\d+)\.params\.(.+)$")
_LABEL_VALUE_CHARS = 40


class ConfigPathError(ValueError):
    """A path that does not lead anywhere in the config."""


def split_path(path: str) -> list[str | int]:
    if not isinstance(path, str) or not path:
        raise ConfigPathError(f"Invalid path {path!r}.")
    match = _PARAM_PATH.match(path)
    parts = ["stages", match.group(1), "params", match.group(2)] if match else path.split(".")
    return [int(part) if part.isdigit() else part for part in parts]


def _step(node: Any, part: str | int, path: str) -> Any:
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    if isinstance(node, dict) and str(part) in node:
        return node[str(part)]
    raise ConfigPathError(f"'{path}': nothing at '{part}'.")


def get_path(config: dict, path: str) -> Any:
    """The value at `path`; ConfigPathError when any part of it is missing."""
    node: Any = config
    for part in split_path(path):
        node = _step(node, part, path)
    return node


def _set_in_place(config: dict, path: str, value: Any) -> None:
    *parents, last = split_path(path)
    node: Any = config
    for part in parents:
        # A stage without a params dict gets one, so any stages.<i>.params.<name> can be set.
        if isinstance(node, dict) and isinstance(part, str) and part not in node:
            node[part] = {}
        node = _step(node, part, path)
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    elif isinstance(node, dict):
        node[str(last)] = value
    else:
        raise ConfigPathError(f"'{path}': cannot set '{last}'.")


def set_path(config: dict, path: str, value: Any) -> dict:
    """A copy of `config` with `value` at `path` (missing dict keys are created; the input is untouched)."""
    result = copy.deepcopy(config)
    _set_in_place(result, path, copy.deepcopy(value))
    return result


def apply_point(base_config: dict, point: dict[str, Any]) -> dict:
    """A copy of `base_config` with every path of the point set to its value."""
    result = copy.deepcopy(base_config)
    for path, value in point.items():
        _set_in_place(result, path, copy.deepcopy(value))
    return result


def _short_names(paths: list[str]) -> dict[str, str]:
    names = {}
    for path in paths:
        match = _PARAM_PATH.match(path)
        names[path] = match.group(2) if match else path
    taken = list(names.values())
    # Two stages sweeping the same parameter keep their full paths so the label stays unambiguous.
    return {path: (name if taken.count(name) == 1 else path) for path, name in names.items()}


def format_value(value: Any) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
    elif isinstance(value, float):
        rounded = round(value, 10)
        text = str(int(rounded)) if rounded.is_integer() else repr(rounded)
    else:
        text = canonical_json(value)
    return text if len(text) <= _LABEL_VALUE_CHARS else text[: _LABEL_VALUE_CHARS - 1] + "…"


def point_label(point: dict[str, Any]) -> str:
    """Short human text for a point, e.g. ``stages.0.model=gpt-x, temperature=0.3``."""
    if not point:
        return "base config"
    names = _short_names(list(point))
    return ", ".join(f"{names[path]}={format_value(value)}" for path, value in point.items())

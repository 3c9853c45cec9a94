"""Config and text diffs shared by the report's baseline section and run comparison."""

from __future__ import annotations

import difflib
from typing import Any

from apps.engine.hashing import canonical_json

MAX_DIFF_LINES = 2000


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values: {"stages": [{"model": "m"}]} → {"stages.0.model": "m"}."""
    if isinstance(value, dict) and value:
        items = ((str(k), v) for k, v in value.items())
    elif isinstance(value, list) and value:
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value} if prefix else {}
    flat: dict[str, Any] = {}
    for key, child in items:
        flat.update(flatten(child, f"{prefix}.{key}" if prefix else key))
    return flat


def _same(a: Any, b: Any) -> bool:
    try:
        return canonical_json(a) == canonical_json(b)
    except (TypeError, ValueError):
        return a == b


def config_diff(a: dict, b: dict) -> dict[str, dict]:
    """Paths whose values differ → {"a": …, "b": …} (None where a side lacks the path), in config order."""
    flat_a, flat_b = flatten(a), flatten(b)
    keys = list(flat_a) + [key for key in flat_b if key not in flat_a]
    return {key: {"a": flat_a.get(key), "b": flat_b.get(key)}
            for key in keys if key not in flat_a or key not in flat_b or not _same(flat_a[key], flat_b[key])}


def text_diff(a: str | None, b: str | None, *, labels: tuple[str, str] = ("a", "b")) -> list[str]:
    """A line-level unified diff (capped), empty when the texts are equal."""
    if a == b:
        return []
    lines = difflib.unified_diff((a or "").splitlines(), (b or "").splitlines(),
                                 fromfile=labels[0], tofile=labels[1], lineterm="")
    out = []
    for line in lines:
        if len(out) >= MAX_DIFF_LINES:
            out.append("… (diff truncated)")
            break
        out.append(line)
    return out

"""Checks for untrusted JSON: depth, NUL bytes, lone surrogates and non-finite numbers (Postgres rejects them)."""

from __future__ import annotations

import math
from typing import Any


class UnsafeJSON(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'body'}: {message}")
        self.path = path or "body"
        self.message = message


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return "contains an unpaired surrogate"
    return None


def check_json(value: Any, *, max_depth: int) -> None:
    """Walk `value` iteratively and raise UnsafeJSON naming the first offending path."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > max_depth:
            raise UnsafeJSON(path, f"is nested deeper than {max_depth} levels")
        if isinstance(node, str):
            problem = _bad_text(node)
            if problem:
                raise UnsafeJSON(path, problem)
        elif isinstance(node, float) and not math.isfinite(node):
            # NaN and Infinity are not JSON, and PostgreSQL refuses them in jsonb columns.
            raise UnsafeJSON(path, "is not a finite number")
        elif isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                problem = _bad_text(str(key))
                if problem:
                    raise UnsafeJSON(path, f"has a key that {problem}")
                stack.append((child, child_path, depth + 1))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                stack.append((child, f"{path}.{index}" if path else str(index), depth + 1))

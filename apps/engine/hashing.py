"""Canonical JSON and SHA-256 keys: one definition shared by the cache, run dedup and exports."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def _normalize(value: Any) -> Any:
    # 0.30000000000000004 and 0.3 must hash alike; ints that are floats (1.0) become ints.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite numbers cannot be hashed")
        rounded = round(value, 10)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, normalized floats."""
    return json.dumps(_normalize(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def call_cache_key(
    *, provider: str, base_url: str, model: str, messages: list[dict], params: dict, repeat: int
) -> str:
    """The response-cache key of one LLM call (DESIGN.md): exactly what was sent, plus the repeat."""
    return sha256_of(
        {
            "provider": provider,
            "base_url": base_url.rstrip("/"),
            "model": model,
            "messages": messages,
            "params": params,
            "repeat": repeat,
        }
    )

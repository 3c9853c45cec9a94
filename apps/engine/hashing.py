"""Canonical JSON and SHA-256 keys: one definition shared by the cache, run dedup and exports."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

_SCALARS = frozenset({str, int, float, bool, type(None)})


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
    *, owner: str, provider: str, base_url: str, model: str, messages: list[dict], params: dict, repeat: int
) -> str:
    """The response-cache key of one LLM call (DESIGN.md): exactly what was sent, plus the repeat.

    `owner` is the user whose endpoints made the call: owners never share a key, so never an entry.
    """
    return sha256_of(
        {
            "owner": str(owner),
            "provider": provider,
            "base_url": base_url.rstrip("/"),
            "model": model,
            "messages": messages,
            "params": params,
            "repeat": repeat,
        }
    )


def embedding_cache_key(*, owner: str, provider: str, base_url: str, model: str, text: str) -> str:
    """The response-cache key of one text's embedding, scoped like `call_cache_key`."""
    return sha256_of({"embedding": True, "owner": str(owner), "provider": provider, "base_url": base_url,
                      "model": model, "text": text})


class CallKeys:
    """`call_cache_key` for many calls of one owner, from the canonical JSON of their messages and params.

    Planning estimates hash 10⁵ calls that share messages and parts: each part is canonicalised once and
    the key text is only joined and hashed. The text is byte for byte what `call_cache_key` hashes
    (its keys in sorted order: base_url, messages, model, owner, params, provider, repeat).
    """

    def __init__(self, *, owner: str) -> None:
        self._owner = canonical_json(str(owner))
        self._scalars: dict = {}
        self._pairs: dict = {}

    def _encoded(self, value: Any) -> str:
        try:
            return self._scalars[(value.__class__, value)]  # the class keeps 1, 1.0 and True apart
        except KeyError:
            text = self._scalars[(value.__class__, value)] = canonical_json(value)
            return text
        except TypeError:  # unhashable (a hand-edited model that is a list)
            return canonical_json(value)

    def params_json(self, params: dict) -> str:
        """canonical_json(params), joined from memoised `"name":value` pairs when keys are text and values scalars."""
        try:
            names = sorted(params)
        except TypeError:  # keys of mixed types
            return canonical_json(params)
        pairs, parts = self._pairs, []
        for name in names:
            value = params[name]
            try:
                parts.append(pairs[(name, value.__class__, value)])
            except KeyError:
                if name.__class__ is not str or value.__class__ not in _SCALARS:
                    return canonical_json(params)
                parts.append(pairs.setdefault((name, value.__class__, value),
                                              f"{self._encoded(name)}:{self._encoded(value)}"))
            except TypeError:  # an unhashable value: a list or dict
                return canonical_json(params)
        return "{" + ",".join(parts) + "}"

    def key(self, *, provider: str, base_url: str, model: str, messages_json: str, params_json: str,
            repeat: int) -> str:
        """Equals `call_cache_key(..., messages=m, params=p)` given canonical_json(m) and canonical_json(p)."""
        text = "".join((
            '{"base_url":', self._encoded(base_url.rstrip("/")), ',"messages":', messages_json,
            ',"model":', self._encoded(model), ',"owner":', self._owner, ',"params":', params_json,
            ',"provider":', self._encoded(provider), ',"repeat":', self._encoded(repeat), "}",
        ))
        return hashlib.sha256(text.encode()).hexdigest()

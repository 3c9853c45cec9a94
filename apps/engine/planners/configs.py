"""The configs of many points over one base config, and their JSON, without redoing the whole config per point.

Planning 10⁵ runs spent most of its time deep-copying the base config for every point and
canonicalising every full config to hash it. Here the base is copied only along the paths a point
sets (the rest is shared: treat the configs as read-only), and JSON is rendered from templates of
the base with one slot per path, so only the point's values are encoded (once per distinct value).
Every result equals `apply_point` / `canonical_json` / `json.dumps` of the full config; paths that
nest inside one another, and points with other paths, fall back to those.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

from apps.engine.config_paths import apply_point, split_path
from apps.engine.hashing import canonical_json

_SCALARS = (str, int, float, bool, type(None))


class _Overlap(Exception):
    """Two paths nest (one sets a value inside the other's): no shared shape."""


def _trie(skeleton: dict, paths: list[str]) -> dict:
    """Nested dict of the container keys leading to each path; a leaf is the path's index."""
    root: dict = {}
    for index, path in enumerate(paths):
        *parents, last = split_path(path)
        node, trie = skeleton, root
        for part in parents:
            key = part if isinstance(node, list) else str(part)
            node = node[key]
            trie = trie.setdefault(key, {})
            if not isinstance(trie, dict):
                raise _Overlap(path)
        key = last if isinstance(node, list) else str(last)
        if key in trie:
            raise _Overlap(path)
        trie[key] = index
    return root


def _fill(node: Any, trie: dict, values: list) -> Any:
    copied = list(node) if isinstance(node, list) else dict(node)
    for key, child in trie.items():
        copied[key] = _fill(node[key], child, values) if isinstance(child, dict) else values[child]
    return copied


class JsonTemplate:
    """The encoding of a value with one slot per path, split around the slots."""

    def __init__(self, text: str, slots: list[str]) -> None:
        found = []
        for index, slot in enumerate(slots):
            quoted = f'"{slot}"'
            if text.count(quoted) != 1:
                raise _Overlap(slot)
            found.append((text.index(quoted), index, len(quoted)))
        segments, self.order, cursor = [], [], 0
        for position, index, length in sorted(found):
            segments.append(text[cursor:position])
            self.order.append(index)
            cursor = position + length
        segments.append(text[cursor:])
        self.identity = self.order == list(range(len(slots)))
        self.parts: list = [None] * (2 * len(slots) + 1)
        self.parts[0::2] = segments

    def render(self, leaves: list[str]) -> str:
        """The text with leaves[i] (the encoded value of path i) in slot i."""
        parts = self.parts.copy()
        parts[1::2] = leaves if self.identity else [leaves[i] for i in self.order]
        return "".join(parts)


class PointConfigs:
    """`config(point)` is `apply_point(base, point)`; `texts(point)` is the JSON planning stores and hashes.

    `hash_values` (per path) gives the value the hash shows instead of the point's own; `hash_wrap` must
    map those paths alike, since it sees whole configs when a point does not fit the shared shape.
    """

    def __init__(self, base: dict, paths: list[str], *, hash_wrap: Callable[[dict], Any],
                 hash_values: dict[str, Callable[[Any], Any]] | None = None) -> None:
        self.base, self.paths, self.hash_wrap = base, tuple(paths), hash_wrap
        self.hash_values = [(hash_values or {}).get(path) for path in self.paths]
        token = uuid.uuid4().hex
        slots = [f"__plan_slot_{token}_{i}__" for i in range(len(self.paths))]
        self.memos: list[dict] = [{} for _ in self.paths]
        try:
            self.skeleton = apply_point(base, dict(zip(self.paths, slots, strict=True)))
            self.trie: dict | None = _trie(self.skeleton, list(self.paths))
            self.hash_template = JsonTemplate(canonical_json(hash_wrap(self.skeleton)), slots)
            self.config_template = JsonTemplate(json.dumps(self.skeleton), slots)
            self.point_template = JsonTemplate(json.dumps(dict(zip(self.paths, slots, strict=True))), slots)
        except (_Overlap, KeyError, IndexError, TypeError, ValueError):
            self.trie = None  # apply_point per point, which raises its own error for a bad path

    def _fits(self, point: dict) -> bool:
        return self.trie is not None and tuple(point) == self.paths

    def config(self, point: dict) -> dict:
        if not self._fits(point):
            return apply_point(self.base, point)
        values = [v if isinstance(v, _SCALARS) else copy.deepcopy(v) for v in point.values()]
        return _fill(self.skeleton, self.trie, values)

    def texts(self, point: dict) -> tuple[str, str, str]:
        """(canonical_json(hash_wrap(config)), json.dumps(config), json.dumps(point)), as JSONField stores them."""
        if not self._fits(point):
            config = apply_point(self.base, point)
            return canonical_json(self.hash_wrap(config)), json.dumps(config), json.dumps(point)
        canonical, plain = [], []
        for memo, mapped, value in zip(self.memos, self.hash_values, point.values(), strict=True):
            key = (value.__class__, value)  # 1, 1.0 and True are equal keys but encode differently
            try:
                pair = memo[key]
            except KeyError:
                pair = (canonical_json(value if mapped is None else mapped(value)), json.dumps(value))
                if not (value.__class__ is float and value == 0):  # -0.0 == 0.0, yet dumps differ
                    memo[key] = pair
            except TypeError:  # unhashable: a list or dict value
                pair = (canonical_json(value if mapped is None else mapped(value)), json.dumps(value))
            canonical.append(pair[0])
            plain.append(pair[1])
        return (self.hash_template.render(canonical), self.config_template.render(plain),
                self.point_template.render(plain))

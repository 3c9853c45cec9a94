"""Session-consistent traffic splitting: a stable hash of (test, session) picks a variant by weight."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_SPAN = 2**64


def variant_index(*, salt: str, session_id: str, weights: Sequence[int]) -> int:
    """The index of the variant this session gets: the same session and test always give the same answer.

    The SHA-256 of `salt:session_id` is read as a number in [0, 1) and looked up in the cumulative weights,
    so a 70/30 split sends 70% of sessions (not requests) to the first variant. `salt` is the test's id:
    a session's arm in one test says nothing about its arm in the next.
    """
    total = sum(weights)
    if total <= 0:
        raise ValueError("weights must add up to more than 0")
    digest = hashlib.sha256(f"{salt}:{session_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * total / _SPAN
    running = 0
    for index, weight in enumerate(weights):
        running += weight
        if point < running:
            return index
    return len(weights) - 1

"""The A/B models (``ab-*``): a reply is empty for a known fraction of requests, set by the prompt's wording.

Any model whose name starts with ``ab-`` answers ``"[<model>] answer: <first 80 chars of the last user
message>"``, except that a fraction of requests get an empty reply (what the gateway's default success
criterion, "non-empty response", counts as a failure):

    EMPTY_RATE_CONCISE = 5 %   when the system prompt contains "concise" (any case)
    EMPTY_RATE_DEFAULT = 25 %  otherwise

Whether one request is empty is a hash of (system prompt, the body's ``user`` field, last user message),
so the same session asking the same thing always gets the same answer and an A/B test between a
"concise" prompt and any other is reproducible: the concise one wins on success rate. A system prompt
containing ``ALWAYS EMPTY`` always gets an empty reply (an A/A test of two such prompts fails both
arms alike). For an upstream 500, give a version the model ``fault-500`` (see ``apps.fakellm.faults``);
streams send their chunks STREAM_PAUSE_MS apart (as a real server does), so a
client or proxy that reads the stream as it arrives sees it in pieces.
"""

from __future__ import annotations

import hashlib
from typing import Any

AB_PREFIX = "ab-"
AB_MODELS = ["ab-chat"]
EMPTY_RATE_CONCISE = 0.05
EMPTY_RATE_DEFAULT = 0.25
ANSWER_CHARS = 80
STREAM_PAUSE_MS = 5


def is_ab_model(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(AB_PREFIX)


def stream_pause_s(model: Any) -> float:
    return STREAM_PAUSE_MS / 1000 if is_ab_model(model) else 0.0


def empty_rate(system: str) -> float:
    if "ALWAYS EMPTY" in system:
        return 1.0
    return EMPTY_RATE_CONCISE if "concise" in system.lower() else EMPTY_RATE_DEFAULT


def ab_reply(*, model: str, system: str, user: Any, user_text: str) -> str:
    """The reply content: empty with probability `empty_rate(system)`, decided by a hash of the request."""
    key = f"{system}\x00{user if isinstance(user, str) else ''}\x00{user_text}".encode()
    point = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    if point < empty_rate(system):
        return ""
    return f"[{model}] answer: {user_text[:ANSWER_CHARS]}"

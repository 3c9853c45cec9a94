"""When a gateway request was answered (analytics' errors are the rest) and when it counts as a success under an
A/B test's criteria (the gateway, feedback and the test's metrics): both rules, once.

What counts as a failed gateway request is documented once: docs/deployments.md, "What counts as a failed gateway
request".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from apps.core.errors import InvalidInput

DEFAULT_CRITERIA: dict[str, bool] = {"require_non_empty": True, "require_no_error": True, "require_helpful": False}
# What `error` says when the upstream answered 2xx with no content. The gateway sets `error` on every request
# that did not end in a 2xx reply with content, so the stored row tells an empty reply without storing it.
EMPTY_REPLY = "empty response"
# The reference's names, accepted on input and stored under ours.
ALIASES = {"require_user_helpful": "require_helpful", "require_no_tool_errors": "require_no_error"}


def criteria_clean(value: Any, *, field: str = "success_criteria") -> dict[str, bool]:
    """Every criterion with its default filled in; unknown keys and non-booleans are refused by name."""
    if value is None:
        return dict(DEFAULT_CRITERIA)
    if not isinstance(value, Mapping):
        raise InvalidInput.field(field, f"Give an object with any of: {', '.join(DEFAULT_CRITERIA)}.")
    cleaned = dict(DEFAULT_CRITERIA)
    for key, flag in value.items():
        name = ALIASES.get(key, key)
        if name not in DEFAULT_CRITERIA:
            raise InvalidInput.field(f"{field}.{key}",
                                     f"Unknown criterion; choose from: {', '.join(DEFAULT_CRITERIA)}.")
        if not isinstance(flag, bool):
            raise InvalidInput.field(f"{field}.{key}", "Give true or false.")
        cleaned[name] = flag
    return cleaned


def request_success(*, criteria: Mapping[str, Any] | None, status_code: int, text: str | None,
                    helpful: bool | None) -> bool:
    """Whether one request succeeded under `criteria` (missing keys take DEFAULT_CRITERIA).

    No error means a 2xx answer from upstream; non-empty means some non-blank response text. When
    feedback is required, only a request rated helpful succeeds: no feedback yet (None) is not a success,
    so the success rate reads "answered and rated helpful" (the feedback rate sits beside it).
    """
    rules = {**DEFAULT_CRITERIA, **{ALIASES.get(key, key): flag for key, flag in (criteria or {}).items()}}
    if rules["require_no_error"] and not 200 <= status_code < 300:
        return False
    if rules["require_non_empty"] and not (text or "").strip():
        return False
    if rules["require_helpful"] and helpful is not True:
        return False
    return True


def request_answered(*, status_code: int, error: str) -> bool:
    """The caller got a complete 2xx reply with content: the gateway sets `error` on every other request (an
    empty 2xx reply is EMPTY_REPLY, a stream cut off midway an upstream error however much of it arrived).
    Not answered is what analytics counts as a model's error, whatever an A/B test's criteria."""
    return 200 <= status_code < 300 and not error


# request_answered over stored rows, for aggregates (analytics' gateway error rate counts its negation).
ANSWERED = Q(status_code__gte=200, status_code__lt=300, error="")


def recorded_success(*, criteria: Mapping[str, Any] | None, status_code: int, error: str,
                     helpful: bool | None) -> bool:
    """request_success of a GatewayRequest from its stored fields: what the gateway stores and feedback recomputes.

    The reply is not stored; a reply is non-empty exactly when it was 2xx with no `error` (an empty 2xx
    reply is EMPTY_REPLY, and a stream cut off midway is an error however much of it arrived).
    """
    answered = request_answered(status_code=status_code, error=error)
    return request_success(criteria=criteria, status_code=status_code, text="(reply)" if answered else "",
                           helpful=helpful)

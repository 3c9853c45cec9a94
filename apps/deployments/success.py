"""When a gateway request counts as a success: one rule for the gateway, feedback and A/B test validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.core.errors import InvalidInput

DEFAULT_CRITERIA: dict[str, bool] = {"require_non_empty": True, "require_no_error": True, "require_helpful": False}
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

"""Row ids as users and hand-edited configs write them: anything, until checked."""

from __future__ import annotations

import uuid


def canonical_uuid(value: object) -> str | None:
    """The value's canonical UUID text, or None if it is not a UUID (a query on it would raise)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def is_uuid(value: object) -> bool:
    return canonical_uuid(value) is not None

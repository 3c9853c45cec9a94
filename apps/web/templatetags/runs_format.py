"""Display helpers of the run pages: a rating widget's DOM id, a scorer's explanation, a rating in words."""

from __future__ import annotations

import hashlib
from typing import Any

from django import template

register = template.Library()


@register.filter
def rating_key(item_id: Any, repeat: Any) -> str:
    """A DOM id for the rating widget of one output (item ids may hold any character)."""
    digest = hashlib.sha1(f"{item_id}\x00{repeat}".encode(), usedforsecurity=False).hexdigest()[:12]
    return f"rating-{digest}"


def _words(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


@register.filter
def explanation(metadata: Any) -> str:
    """A scorer's metadata as one line: its reasoning when it gives one, else `key: value` pairs."""
    if not isinstance(metadata, dict) or not metadata:
        return ""
    if metadata.get("reasoning"):
        return str(metadata["reasoning"])
    return "; ".join(f"{key}: {_words(value)}" for key, value in metadata.items() if not isinstance(value, dict))


@register.filter
def rating_words(metadata: Any) -> str:
    """A stored human rating as people gave it: "4 of 5 stars", "thumbs up"."""
    rating = metadata.get("rating", {}) if isinstance(metadata, dict) else {}
    if rating.get("stars") is not None:
        return f"{rating['stars']} of 5 stars"
    if rating.get("thumbs"):
        return f"thumbs {rating['thumbs']}"
    return "rated"

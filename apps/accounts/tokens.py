"""Signed, expiring bearer tokens (JWT, HS256) for the API login."""

from __future__ import annotations

from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone

ISSUER = "promptlooper"


def token_issue(*, user_id: str) -> tuple[str, int]:
    ttl = settings.JWT_TTL_SECONDS
    now = timezone.now()
    payload = {"sub": str(user_id), "iss": ISSUER, "iat": now, "exp": now + timedelta(seconds=ttl)}
    return jwt.encode(payload, settings.JWT_SECRET, algorithm="HS256"), ttl


def token_user_id(token: str) -> str | None:
    """The user id in a valid, unexpired token; None for anything else."""
    try:
        payload = jwt.decode(
            token, settings.JWT_SECRET, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return payload["sub"]

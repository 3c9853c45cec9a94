"""Signed, expiring bearer tokens (JWT, HS256) for the API login, bound to the user's password."""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.accounts.models import User

ISSUER = "promptlooper"


def password_stamp(user: User) -> str:
    """A short HMAC of the password hash: a new password (or an unusable one) changes it."""
    return salted_hmac("promptlooper.token.password", user.password, secret=settings.JWT_SECRET,
                       algorithm="sha256").hexdigest()[:32]


def token_issue(*, user_id: uuid.UUID | str) -> tuple[str, int]:
    user = User.objects.get(pk=user_id)
    ttl = settings.JWT_TTL_SECONDS
    now = timezone.now()
    payload = {"sub": str(user.pk), "pwd": password_stamp(user), "iss": ISSUER, "iat": now,
               "exp": now + timedelta(seconds=ttl)}
    return jwt.encode(payload, settings.JWT_SECRET, algorithm="HS256"), ttl


def token_user(token: str) -> User | None:
    """The active user of a valid, unexpired token issued against their current password; else None."""
    try:
        payload = jwt.decode(
            token, settings.JWT_SECRET, algorithms=["HS256"], issuer=ISSUER,
            options={"require": ["exp", "sub", "pwd"]},
        )
    except jwt.PyJWTError:
        return None
    user = User.objects.filter(pk=payload["sub"], is_active=True).first()
    if user is None or not hmac.compare_digest(str(payload["pwd"]), password_stamp(user)):
        return None
    return user

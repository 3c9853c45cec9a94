"""Accounts: first-boot setup, API keys and logins."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.models import ApiKey, User
from apps.core.errors import Forbidden, InvalidInput, RateLimited
from apps.core.models import SystemSettings
from apps.core.types import Id

logger = logging.getLogger(__name__)

KEY_PREFIX = "pl_"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def setup_is_complete() -> bool:
    return (
        SystemSettings.objects.filter(pk=1, setup_completed_at__isnull=False).exists()
        or User.objects.filter(is_superuser=True).exists()
    )


def setup_token_issue() -> str | None:
    """Create (or replace) the one-time setup token; None once an admin exists."""
    if setup_is_complete():
        return None
    token = secrets.token_urlsafe(24)
    system = SystemSettings.load()
    system.setup_token_hash = _sha256(token)
    system.save(update_fields=["setup_token_hash", "updated_at"])
    return token


def setup_complete(*, username: str, password: str, token: str) -> User:
    """Create the first admin. Exactly one concurrent caller wins; the token dies with it."""
    username = (username or "").strip()
    if not username:
        raise InvalidInput.field("username", "Choose a username.")
    try:
        password_validation.validate_password(password, User(username=username))
    except ValidationError as exc:
        raise InvalidInput.field("password", " ".join(exc.messages)) from exc
    system = SystemSettings.load()
    if system.setup_completed_at or setup_is_complete():
        raise Forbidden("Setup is already complete.")
    if not system.setup_token_hash or not hmac.compare_digest(system.setup_token_hash, _sha256(token or "")):
        raise Forbidden(errors={"token": [
            "The setup token is missing or wrong. Use the setup link printed in the server log."]})
    with transaction.atomic():
        # A conditional UPDATE is atomic on SQLite and PostgreSQL: only one racer sees 1 row changed.
        claimed = SystemSettings.objects.filter(pk=1, setup_completed_at__isnull=True).update(
            setup_completed_at=timezone.now(), setup_token_hash=""
        )
        if claimed != 1:
            raise Forbidden("Setup is already complete.")
        user = User.objects.create_superuser(username=username, password=password, email="")
    return user


def login_check(*, request: HttpRequest, username: str, password: str) -> User | None:
    """Authenticate through django-axes so every login path shares one rate limit."""
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise RateLimited("Too many failed login attempts. Try again later.")
    return user


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Return the new key row and the raw key, which is never stored and shown only now."""
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(user=user, name=name.strip() or "API key", prefix=prefix, hashed_key=_sha256(raw))
    return key, raw


def api_key_revoke(*, user: User, key_id: Id) -> ApiKey:
    key = ApiKey.objects.get(user=user, pk=key_id)
    key.revoke()
    return key


def api_key_user(*, raw: str) -> User | None:
    """The active user behind a raw API key (or the static API_KEY), else None."""
    if settings.STATIC_API_KEY and hmac.compare_digest(raw.encode(), settings.STATIC_API_KEY.encode()):
        return User.objects.filter(is_superuser=True, is_active=True).order_by("date_joined").first()
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix = raw[len(KEY_PREFIX) :].split("_", 1)[0]
    key = ApiKey.objects.active().select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.hashed_key, _sha256(raw)) or not key.user.is_active:
        return None
    now = timezone.now()
    # Touch last_used at most once a minute so reads don't become writes on every call.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user

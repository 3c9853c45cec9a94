"""Secrets at rest: MultiFernet over ENCRYPTION_KEYS (first key encrypts, all decrypt)."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from apps.core.errors import Conflict


class SecretDecryptionError(Conflict):
    """A stored secret cannot be decrypted with any configured key (the keys changed, not the request)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise SecretDecryptionError(
            "ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "A stored secret could not be decrypted: ENCRYPTION_KEYS does not contain the key "
            "it was encrypted with. Restore the old key (keep it after the new one) and run "
            "`manage.py rotate_secrets`."
        ) from exc


def rotate(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError("A stored secret could not be decrypted with any key") from exc


def last4(secret: str) -> str:
    return secret[-4:] if len(secret) >= 8 else ""

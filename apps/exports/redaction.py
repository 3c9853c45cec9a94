"""Keep credentials out of exports: URLs lose userinfo and secret-looking query values; known keys are scrubbed."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apps.core.crypto import SecretDecryptionError
from apps.endpoints.models import Endpoint
from apps.endpoints.selectors import endpoint_api_key

REDACTED = "[REDACTED]"
_SECRET_PARAM = re.compile(r"(?i)(key|token|secret|pass|auth|sig|credential)")
_MIN_SECRET_LEN = 6


def safe_url(url: str) -> str:
    """The URL without `user:password@` and with secret-looking query values replaced."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    query = urlencode(
        [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="[]",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def owner_secrets(*, owner_id) -> list[str]:
    """Every API key of the owner's endpoints (longest first), to scrub from anything exported."""
    secrets = set()
    for endpoint in Endpoint.objects.filter(owner_id=owner_id).exclude(api_key_encrypted=""):
        try:
            key = endpoint_api_key(endpoint=endpoint)
        except SecretDecryptionError:
            # An undecryptable key cannot be echoed either; the export goes on without it.
            continue
        if len(key) >= _MIN_SECRET_LEN:
            secrets.add(key)
    return sorted(secrets, key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """A copy of `value` (str, list, dict, scalars) with every known secret replaced."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    return value

"""Who is calling: the same bearer API keys and login tokens as REST, resolved again on every tool call.

Over HTTP the key travels in each request's `Authorization` header (checked once more before the session
opens, see apps.mcp.http); over stdio (and in tests' in-memory clients) it is the one key the process was
started with. Resolving per call means a key revoked mid-session stops working at the next call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from apps.accounts.authentication import user_from_bearer
from apps.accounts.models import User
from apps.core.errors import Unauthenticated

REFUSED = ("Authentication required: send 'Authorization: Bearer <API key>' (an invalid, expired or revoked key "
           "is refused).")


def bearer_token(headers: Mapping[str, str] | None) -> str:
    """The raw token of an `Authorization: Bearer …` header, or "" when there is none."""
    scheme, _, raw = ((headers or {}).get("authorization") or "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def user_for_token(raw: str) -> User:
    user = user_from_bearer(raw) if raw else None
    if user is None or not user.is_active:
        raise Unauthenticated(REFUSED)
    return user


class Principal(Protocol):
    def token(self, headers: Mapping[str, str] | None) -> str: ...


class HeaderPrincipal:
    """HTTP: the key is the one the request carrying this call presented."""

    def token(self, headers: Mapping[str, str] | None) -> str:
        return bearer_token(headers)


@dataclass(frozen=True)
class StaticPrincipal:
    """stdio: the key the process was started with (PROMPTLOOPER_API_KEY)."""

    key: str

    def token(self, headers: Mapping[str, str] | None) -> str:
        return self.key

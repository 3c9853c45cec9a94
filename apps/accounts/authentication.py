"""`Authorization: Bearer <API key or login token>` for the REST API (and MCP)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from apps.accounts.models import User
from apps.accounts.services import KEY_PREFIX, api_key_user
from apps.accounts.tokens import token_user


def user_from_bearer(raw: str) -> User | None:
    if raw.startswith(KEY_PREFIX) or "." not in raw:
        return api_key_user(raw=raw)
    return token_user(raw)


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <token>'.")
        user = user_from_bearer(raw.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return user, raw.strip()

    def authenticate_header(self, request) -> str:
        return self.keyword

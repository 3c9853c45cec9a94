"""Streamable HTTP at /mcp on the main port, in front of Django in the ASGI router.

Order of checks, before the SDK sees the request: the Host (and Origin, when a browser sends one) must be
one of ALLOWED_HOSTS (DNS rebinding: 421 / 403, as the SDK answers), then a valid bearer API key or login
token (401 otherwise), so no session ever opens for a stranger. The SDK's own transport security is
configured from the same ALLOWED_HOSTS, and its session is bound to the user that opened it.

Daphne sends no ASGI lifespan events, so the SDK's session manager is started lazily, once, in a
background task on the first /mcp request (DESIGN.md, Interfaces).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from apps.core.errors import Unauthenticated
from apps.mcp.auth import HeaderPrincipal, bearer_token, user_for_token
from apps.mcp.server import build_server

PATH = "/mcp"


def _host_allowed(host: str) -> bool:
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _origin_allowed(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and _host_allowed(parts.netloc)


def transport_security() -> TransportSecuritySettings:
    """The SDK's DNS-rebinding guard, from ALLOWED_HOSTS; patterns it cannot express leave the check to ours."""
    hosts = list(settings.ALLOWED_HOSTS)
    if any(host == "*" or host.startswith(".") for host in hosts):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[form for host in hosts for form in (host, f"{host}:*")],
        allowed_origins=[f"{scheme}://{host}{port}" for host in hosts for scheme in ("http", "https")
                         for port in ("", ":*")],
    )


async def _respond(send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class McpHttpApp:
    """The ASGI app behind /mcp: guards, then the SDK's session manager (started on first use)."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self._ready: asyncio.Event | None = None
        self._failure: BaseException | None = None

    async def __call__(self, scope, receive, send) -> None:
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        if not _host_allowed(headers.get("host", "")):
            return await _respond(send, 421, "Invalid Host header")
        if "origin" in headers and not _origin_allowed(headers["origin"]):
            return await _respond(send, 403, "Invalid Origin header")
        try:
            user = await sync_to_async(user_for_token)(bearer_token(headers))
        except Unauthenticated as exc:
            return await _respond(send, 401, str(exc), [(b"www-authenticate", b'Bearer realm="promptlooper"')])
        manager = await self._running()
        # The SDK binds a session to the principal that opened it: another user's key cannot use it.
        principal = AuthenticatedUser(AccessToken(token="", client_id=str(user.pk), scopes=[]))
        await manager.handle_request({**scope, "user": principal}, receive, send)

    async def _running(self) -> StreamableHTTPSessionManager:
        if self._ready is None:
            self._ready = asyncio.Event()
            server = build_server(HeaderPrincipal())
            server.streamable_http_app(streamable_http_path=PATH, transport_security=transport_security())
            self._manager = server.session_manager
            asyncio.get_running_loop().create_task(self._serve(self._manager))
        await self._ready.wait()
        if self._failure is not None:
            raise RuntimeError("the MCP session manager did not start") from self._failure
        return self._manager

    async def _serve(self, manager: StreamableHTTPSessionManager) -> None:
        try:
            async with manager.run():
                self._ready.set()
                await asyncio.Event().wait()  # for the life of the process
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            raise


def with_mcp(http_app):
    """`http_app` with /mcp in front of it, or `http_app` alone when MCP_ENABLED is false (then /mcp is a 404)."""
    if not settings.MCP_ENABLED:
        return http_app
    mcp_app = McpHttpApp()

    async def dispatch(scope, receive, send):
        path = scope.get("path", "")
        if path == PATH or path.startswith(PATH + "/"):
            return await mcp_app(scope, receive, send)
        return await http_app(scope, receive, send)

    return dispatch

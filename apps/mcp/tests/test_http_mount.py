"""/mcp in the ASGI router: removed by MCP_ENABLED=false, guarded by Host and by the API key before any session."""

from __future__ import annotations

import httpx
import pytest
from django.core.asgi import get_asgi_application

from apps.mcp.http import with_mcp

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "1"}}}


async def post(app, *, host: str = "127.0.0.1", headers: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as client:
        return await client.post("/mcp", json=INITIALIZE, headers={"accept": "application/json, text/event-stream",
                                                                   **(headers or {})})


async def test_with_mcp_disabled_the_route_is_gone_and_django_answers_404(settings, admin_user):
    # admin_user: first-boot setup is done, so Django answers the path itself instead of redirecting to setup.
    settings.MCP_ENABLED = False
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = await post(with_mcp(get_asgi_application()))
    assert response.status_code == 404


async def test_a_request_without_a_key_is_refused_before_a_session_opens(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = await post(with_mcp(get_asgi_application()))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "mcp-session-id" not in response.headers


async def test_a_wrong_key_is_refused(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = await post(with_mcp(get_asgi_application()), headers={"authorization": "Bearer pl_nope_nope"})
    assert response.status_code == 401


async def test_an_unknown_host_is_refused_as_dns_rebinding(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = await post(with_mcp(get_asgi_application()), host="evil.example")
    assert response.status_code == 421


async def test_a_foreign_origin_is_refused(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    response = await post(with_mcp(get_asgi_application()), headers={"origin": "http://evil.example"})
    assert response.status_code == 403

"""The one way out: every outbound HTTP call (LLM endpoints, embeddings, judges, webhooks).

Policy is checked on the addresses a host resolves to when the TCP connection opens, not on
the URL string; if any resolved address is denied, the whole lookup is denied. Both clients
use `trust_env=False`, never follow redirects (`raise_for_redirect` turns a 3xx into an error
naming the target host) and cap response bodies.
"""

from __future__ import annotations

import functools
import ssl
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx

from apps.engine.egress.policy import (
    METADATA_ADDRESSES,
    Allowlist,
    BodyTooLarge,
    EgressDenied,
    EgressError,
    Guard,
    Policy,
    RedirectNotFollowed,
    canonical,
    category,
    check_url,
)
from apps.engine.egress.transports import (
    AsyncGuardedTransport,
    GuardedResolver,
    SyncGuardedTransport,
    declared_too_large,
    too_large,
)

__all__ = [
    "LLM_MAX_BODY_BYTES", "METADATA_ADDRESSES", "WEBHOOK_MAX_BODY_BYTES", "Allowlist", "BodyTooLarge",
    "EgressDenied", "EgressError", "Policy", "RedirectNotFollowed", "async_client", "canonical",
    "category", "check_url", "raise_for_redirect", "read_capped", "read_capped_sync", "sync_client",
]

LLM_MAX_BODY_BYTES = 8 * 1024 * 1024
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024


def raise_for_redirect(response: httpx.Response) -> None:
    """A 3xx is an error naming where it pointed; we never follow it."""
    if not 300 <= response.status_code < 400:
        return
    location = response.headers.get("location", "")
    try:
        target = response.url.join(location).host if location else "(no Location header)"
    except httpx.InvalidURL:
        target = "(an invalid URL)"
    message = f"redirect to {target} not followed (HTTP {response.status_code} from {response.url.host})"
    raise RedirectNotFollowed(message, target_host=target)


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed response, or BodyTooLarge past `max_bytes`."""
    if declared_too_large(response, max_bytes):
        await response.aclose()
        raise too_large(response.url.host, max_bytes)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            await response.aclose()
            raise too_large(response.url.host, max_bytes)
    return bytes(body)


def read_capped_sync(response: httpx.Response, max_bytes: int) -> bytes:
    """`read_capped` for the sync client."""
    if declared_too_large(response, max_bytes):
        response.close()
        raise too_large(response.url.host, max_bytes)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            response.close()
            raise too_large(response.url.host, max_bytes)
    return bytes(body)


def _client_options(connect_timeout_s: float, read_timeout_s: float) -> dict:
    timeout = httpx.Timeout(connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=None)
    # A shared client must not carry one server's cookies to another.
    no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    # Identity encoding keeps the byte cap meaningful (no decompression bombs).
    headers = {"Accept-Encoding": "identity"}
    return dict(timeout=timeout, follow_redirects=False, trust_env=False, cookies=no_cookies, headers=headers)


def _default_max_body(policy: Policy) -> int:
    return LLM_MAX_BODY_BYTES if policy is Policy.LLM else WEBHOOK_MAX_BODY_BYTES


@functools.lru_cache(maxsize=4)
def _default_ssl_context(verify: bool) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify, trust_env=False)


def _ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    # Loading the CA bundle costs ~25 ms; share one context per process unless the caller brings one.
    return verify if isinstance(verify, ssl.SSLContext) else _default_ssl_context(bool(verify))


def async_client(*, policy: Policy, allowlist: Allowlist | None = None, connect_timeout_s: float = 5.0,
                 read_timeout_s: float = 120.0, max_connections: int = 100, max_body_bytes: int | None = None,
                 verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """An httpx client over aiohttp (httpx's own pool stalls past ~64 requests in flight).

    Use it from one event loop: the aiohttp session underneath is created in, and bound to,
    the loop of the first request.
    """
    guard = Guard(policy, allowlist or Allowlist())
    ssl_context = _ssl_context(verify)

    def session() -> aiohttp.ClientSession:  # called lazily, inside the running loop
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(guard), limit=max_connections, ssl=ssl_context)
        return aiohttp.ClientSession(connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar())

    transport = AsyncGuardedTransport(
        guard, max_body_bytes or _default_max_body(policy), client=session, verify=ssl_context
    )
    return httpx.AsyncClient(transport=transport, **_client_options(connect_timeout_s, read_timeout_s))


def sync_client(*, policy: Policy, allowlist: Allowlist | None = None, connect_timeout_s: float = 5.0,
                read_timeout_s: float = 30.0, max_connections: int = 10, max_body_bytes: int | None = None,
                verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """A blocking client with the same policy, for probes and webhook deliveries."""
    guard = Guard(policy, allowlist or Allowlist())
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    ssl_context = _ssl_context(verify)
    transport = SyncGuardedTransport(
        guard, max_body_bytes or _default_max_body(policy), limits=limits, verify=ssl_context
    )
    return httpx.Client(transport=transport, **_client_options(connect_timeout_s, read_timeout_s))

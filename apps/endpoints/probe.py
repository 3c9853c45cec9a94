"""Test an endpoint: list its models and explain any failure in plain words (never echoing bodies)."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from apps.core.logging import redact
from apps.endpoints.models import Endpoint
from apps.endpoints.selectors import allowlist_current, endpoint_api_key
from apps.engine import egress
from apps.engine.egress.transports import UnrequestableURL
from apps.engine.egress.urls import UrlRefused, accept_url

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_MODELS = 1000


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    models: list[str] = field(default_factory=list)
    latency_ms: int = 0
    error: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ModelsRoute:
    path: str
    headers: Callable[[str], dict[str, str]]
    flavour: str
    not_found_hint: str


ROUTES: dict[str, ModelsRoute] = {
    Endpoint.Kind.OPENAI: ModelsRoute(
        path="/models",
        headers=lambda key: {"Authorization": f"Bearer {key}"} if key else {},
        flavour="OpenAI-compatible",
        not_found_hint="check that the base URL ends in /v1 for OpenAI-compatible servers",
    ),
    Endpoint.Kind.ANTHROPIC: ModelsRoute(
        path="/v1/models",
        headers=lambda key: {"anthropic-version": "2023-06-01", **({"x-api-key": key} if key else {})},
        flavour="Anthropic-compatible",
        not_found_hint="check that the base URL is the server root without /v1 (e.g. https://api.anthropic.com)",
    ),
}


class BodyTooLarge(Exception):
    pass


def http_get(url: str, *, headers: dict[str, str], endpoint: Endpoint) -> tuple[httpx.Response, bytes]:
    """The one outbound call of the probe, through the egress guard (LLM policy), body capped."""
    client = egress.sync_client(
        policy=egress.Policy.LLM,
        allowlist=allowlist_current(),
        connect_timeout_s=endpoint.connect_timeout_s,
        read_timeout_s=endpoint.read_timeout_s,
    )
    with client:
        with client.stream("GET", url, headers=headers) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise BodyTooLarge()
            return response, bytes(body)


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _explain_exception(exc: Exception, *, where: str, endpoint: Endpoint) -> tuple[str, str]:
    causes = _causes(exc)
    if isinstance(exc, egress.EgressDenied):
        return "blocked", f"PromptLooper refuses to connect to {where}: {exc}."
    if isinstance(exc, (UnrequestableURL, httpx.InvalidURL)):
        return "invalid_url", f"The URL cannot be requested: {exc}."
    if isinstance(exc, BodyTooLarge):
        return "too_large", f"The model list from {where} is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."
    if isinstance(exc, httpx.ConnectTimeout):
        return "timeout", f"Connecting to {where} timed out after {endpoint.connect_timeout_s:g} s."
    if isinstance(exc, httpx.TimeoutException):
        seconds = endpoint.read_timeout_s
        return "timeout", f"{where} accepted the connection but did not answer within {seconds:g} s."
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection_refused", f"Nothing is listening at {where} (connection refused)."
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        host = where.rsplit(":", 1)[0]
        return "dns_failure", f"The host name {host} could not be resolved (DNS lookup failed)."
    tls = next((cause for cause in causes if isinstance(cause, ssl.SSLError)), None)
    if tls is not None:
        reason = tls.reason or "certificate or protocol error"
        return "tls_error", f"The TLS handshake with {where} failed ({reason})."
    if isinstance(exc, httpx.ConnectError):
        return "connect_failed", f"Could not connect to {where}."
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "bad_response", f"{where} closed the connection or did not answer with valid HTTP."
    return "request_failed", f"The request to {where} failed ({type(exc).__name__})."


def _where(url: str) -> str:
    """host:port for messages (the URL passed accept_url; should a parser still disagree, "the endpoint")."""
    try:
        parts = urlsplit(url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        return f"{host}:{parts.port or {'http': 80, 'https': 443}.get(parts.scheme)}"
    except ValueError:
        return "the endpoint"


def _explain_status(response: httpx.Response, *, url: str, key: str, route: ModelsRoute) -> tuple[str, str]:
    code = response.status_code
    if 300 <= code < 400:
        target = urlsplit(urljoin(url, response.headers.get("location", "")))
        shown = f"{target.scheme}://{target.netloc.rsplit('@', 1)[-1]}" if target.netloc else "another location"
        return "redirect", (
            f"The endpoint redirected (HTTP {code}) to {shown}; use the final URL as the base URL "
            "(redirects are never followed, so the API key cannot be sent elsewhere)."
        )
    if code in (401, 403):
        if key:
            return "auth_rejected", f"The endpoint rejected the API key (HTTP {code})."
        return "auth_rejected", f"The endpoint requires an API key (HTTP {code}) and none is stored."
    if code == 404:
        return "not_found", f"No models route at {url}: {route.not_found_hint}."
    if code == 429:
        return "rate_limited", "The endpoint is rate-limiting requests (HTTP 429); try again later."
    if code >= 500:
        return "server_error", f"The endpoint failed with HTTP {code} (an error on the server's side)."
    return "http_error", f"The endpoint answered HTTP {code} to GET {url}."


def _parse_models(body: bytes) -> list[str] | None:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in data):
        return None
    return list(dict.fromkeys(item["id"][:200] for item in data))[:MAX_MODELS]


def _scrub(text: str, key: str) -> str:
    return redact(text.replace(key, "[REDACTED]") if key else text)


def endpoint_probe(*, endpoint: Endpoint) -> ProbeResult:
    """List the endpoint's models. A failure is a result (ok=False) with a code and plain words."""
    try:
        # Rows saved before URLs were checked on save may hold one no client can request.
        accept_url(endpoint.base_url, policy=egress.Policy.LLM, allowlist=allowlist_current())
    except UrlRefused as exc:
        code = "blocked" if exc.category else "invalid_url"
        return ProbeResult(ok=False, models=[], latency_ms=0, error=code, detail=f"The base URL cannot be used: {exc}")
    key = endpoint_api_key(endpoint=endpoint)
    route = ROUTES[endpoint.kind]
    url = endpoint.base_url.rstrip("/") + route.path
    where = _where(url)
    started = time.monotonic()
    models, error, detail = [], None, None
    try:
        response, body = http_get(url, headers=route.headers(key), endpoint=endpoint)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, BodyTooLarge, OSError, UnicodeError) as exc:
        error, detail = _explain_exception(exc, where=where, endpoint=endpoint)
    else:
        if response.status_code != 200:
            error, detail = _explain_status(response, url=url, key=key, route=route)
        else:
            parsed = _parse_models(body)
            if parsed is None:
                error = "bad_response"
                detail = (
                    f"{url} answered, but it is not an {route.flavour} response "
                    '(expected JSON with a "data" list of models).'
                )
            else:
                models = parsed
    latency_ms = round((time.monotonic() - started) * 1000)
    if error:
        detail = _scrub(detail, key)
        logger.info("Endpoint %s test failed: %s", endpoint.pk, error)
    return ProbeResult(ok=error is None, models=models, latency_ms=latency_ms, error=error, detail=detail)

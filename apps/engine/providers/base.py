"""What every LLM adapter shares: the call contract, error translation and key scrubbing."""

from __future__ import annotations

import functools
import json
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from apps.engine import egress
from apps.engine.egress.transports import UnrequestableURL
from apps.engine.providers.retry import parse_retry_after
from apps.engine.types import ChatRequest, Completion, EndpointSpec, ProviderError

ERROR_EXCERPT_CHARS = 500
ERROR_BODY_BYTES = 64 * 1024
CALLS = ("complete", "list_models", "embed")
_USERINFO = re.compile(r"(?<=//)[^/?#]*@")


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 409, 429)


def shown_url(url: str) -> str:
    """A URL as it may appear in an error: no user name or password, and not too long."""
    return excerpt(_USERINFO.sub("", url))[:200]


def translated(call):
    """Wrap an adapter call so that every exception it raises is a ProviderError."""

    @functools.wraps(call)
    async def wrapper(self: Provider, *args: Any, **kwargs: Any) -> Any:
        try:
            return await call(self, *args, **kwargs)
        except ProviderError:
            raise
        except Exception as exc:  # a library's ValueError or a bug here costs one call, not a sweep
            raise self.error(f"{self.endpoint.kind} call to {shown_url(self.endpoint.base_url)} failed: "
                             f"{type(exc).__name__}: {excerpt(str(exc))}") from exc

    return wrapper


class Provider(ABC):
    """An LLM API dialect spoken over a shared egress client."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every adapter, present and future, gets the guarantee without remembering a decorator.
        super().__init_subclass__(**kwargs)
        for name in CALLS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__isabstractmethod__", False):
                setattr(cls, name, translated(method))

    def __init__(self, endpoint: EndpointSpec, client: httpx.AsyncClient) -> None:
        self.endpoint = endpoint
        self.client = client

    @abstractmethod
    async def complete(self, request: ChatRequest) -> Completion:
        """One chat completion: text, token usage, latency and finish reason."""

    @abstractmethod
    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers."""

    @abstractmethod
    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """One embedding vector per text, in order."""

    def headers(self) -> dict[str, str]:
        return {}

    def timeout(self) -> httpx.Timeout:
        read = self.endpoint.read_timeout_s
        return httpx.Timeout(connect=self.endpoint.connect_timeout_s, read=read, write=read, pool=None)

    def scrub(self, text: str) -> str:
        """Remove the API key from text a server sent back (some echo it in auth errors)."""
        key = self.endpoint.api_key
        return text.replace(key, "[REDACTED]") if key else text

    def error(self, message: str, **kwargs: Any) -> ProviderError:
        return ProviderError(self.scrub(message), **kwargs)

    def invalid_url(self, reason: str) -> ProviderError:
        """Not retryable: the same URL fails the same way every time."""
        return self.error(f"invalid endpoint URL {shown_url(self.endpoint.base_url)}: {reason}")

    def build(self, method: str, url: str, json_body: Any) -> httpx.Request:
        try:
            parsed = httpx.URL(url)
            _ = parsed.host  # decoding a punycode host name can fail too
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise self.invalid_url(excerpt(str(exc))) from None
        if parsed.userinfo:
            raise self.invalid_url("a user name or password in the URL is not supported; "
                                   "store the key as the endpoint's API key")
        try:
            return self.client.build_request(method, parsed, json=json_body, headers=self.headers(),
                                             timeout=self.timeout())
        except (TypeError, ValueError) as exc:
            raise self.error(f"could not build the request to {parsed.host}: {excerpt(str(exc))}") from None

    @asynccontextmanager
    async def open(self, method: str, url: str, *, json_body: Any = None) -> AsyncIterator[httpx.Response]:
        """A streamed 2xx response; every other outcome becomes a ProviderError."""
        request = self.build(method, url, json_body)
        async with self.translate_errors(request.url.host):
            response = await self.client.send(request, stream=True)
            try:
                egress.raise_for_redirect(response)
                if response.status_code >= 400:
                    raise await self.status_error(response)
                yield response
            finally:
                await response.aclose()

    async def request_json(self, method: str, url: str, *, json_body: Any = None) -> Any:
        async with self.open(method, url, json_body=json_body) as response:
            raw = await egress.read_capped(response, egress.LLM_MAX_BODY_BYTES)
        try:
            return json.loads(raw)
        except ValueError:
            raise self.error(f"{response.url.host} sent a response that is not valid JSON: "
                             f"{excerpt(raw)}", status=response.status_code) from None

    @asynccontextmanager
    async def translate_errors(self, host: str) -> AsyncIterator[None]:
        try:
            yield
        except UnrequestableURL as exc:
            raise self.invalid_url(str(exc)) from None
        except egress.EgressError as exc:
            raise self.error(str(exc)) from None
        except httpx.UnsupportedProtocol as exc:  # aiohttp's verdict on a URL it cannot request
            raise self.invalid_url(f"the HTTP client refused it ({excerpt(str(exc))})") from None
        except httpx.ConnectTimeout:
            raise self.error(f"connecting to {host} timed out after {self.endpoint.connect_timeout_s:g}s",
                             retryable=True) from None
        except httpx.TimeoutException:
            raise self.error(f"{host} sent nothing for {self.endpoint.read_timeout_s:g}s (read timeout)",
                             retryable=True) from None
        except httpx.TransportError as exc:
            raise self.error(f"connection to {host} failed: {exc}", retryable=True) from None

    async def status_error(self, response: httpx.Response) -> ProviderError:
        try:
            raw = await egress.read_capped(response, ERROR_BODY_BYTES)
        except (httpx.TransportError, egress.EgressError):
            raw = b""
        status = response.status_code
        retry_after = parse_retry_after(response.headers) if status in (429, 503) else None
        return self.error(
            f"HTTP {status} from {response.url.host}: {error_message(raw)}",
            status=status, retryable=is_retryable_status(status), retry_after_s=retry_after,
        )


def excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    return text[:ERROR_EXCERPT_CHARS] + ("…" if len(text) > ERROR_EXCERPT_CHARS else "")


def error_message(raw: bytes) -> str:
    """The human part of an error body: OpenAI's and Anthropic's `error.message`, else the text."""
    try:
        body = json.loads(raw)
    except ValueError:
        return excerpt(raw) or "(empty body)"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return excerpt(error["message"])
    if isinstance(error, str):
        return excerpt(error)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return excerpt(body["message"])
    return excerpt(raw)

"""What every LLM adapter shares: the call contract, error translation and key scrubbing."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from apps.engine import egress
from apps.engine.providers.retry import parse_retry_after
from apps.engine.types import ChatRequest, Completion, EndpointSpec, ProviderError

ERROR_EXCERPT_CHARS = 500
ERROR_BODY_BYTES = 64 * 1024


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 409, 429)


class Provider(ABC):
    """An LLM API dialect spoken over a shared egress client."""

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

    @asynccontextmanager
    async def open(self, method: str, url: str, *, json_body: Any = None) -> AsyncIterator[httpx.Response]:
        """A streamed 2xx response; every other outcome becomes a ProviderError."""
        request = self.client.build_request(
            method, url, json=json_body, headers=self.headers(), timeout=self.timeout()
        )
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
        except egress.EgressError as exc:
            raise self.error(str(exc)) from None
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

"""Transports that enforce the egress policy when a connection opens, and cap response bodies.

Async: aiohttp underneath (via httpx-aiohttp), checked in its resolver; aiohttp skips the
resolver for hosts that look numeric, so those are checked before the request. Sync: httpx's
own transport with an httpcore network backend that resolves, checks, then connects to the
checked IP (TLS still verifies the hostname, which httpcore passes to start_tls).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Iterable, Iterator
from ipaddress import ip_address

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver
from httpx_aiohttp import AiohttpTransport

from apps.engine.egress.policy import BodyTooLarge, EgressDenied, EgressError, Guard, check_scheme, host_port

# httpx has already turned an international name into punycode; "_" appears in container names.
_HOST_CHARS = re.compile(r"[A-Za-z0-9._-]+")


class UnrequestableURL(EgressError):
    """A URL no request can be sent to (a malformed host name, a port out of range): never retry it."""


def check_requestable(url: httpx.URL) -> None:
    """Refuse, before any lookup, what no resolver or socket could ever accept."""
    check_scheme(url)
    if url.port is not None and not 0 < url.port < 65536:
        raise UnrequestableURL(f"port {url.port} is out of range (1-65535)")
    host, _ = host_port(url)
    if not _looks_numeric(host):
        try:
            valid = _HOST_CHARS.fullmatch(host) is not None and bool(host.encode("idna"))
        except UnicodeError:  # an empty or over-long label
            valid = False
        if not valid:
            raise UnrequestableURL(f"'{host[:100]}' is not a valid host name")


def too_large(host: str, max_bytes: int) -> BodyTooLarge:
    return BodyTooLarge(f"response from {host} is larger than {max_bytes} bytes")


def declared_too_large(response: httpx.Response, max_bytes: int) -> bool:
    declared = response.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes


def _clarify(exc: httpx.TransportError) -> httpx.TransportError:
    # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout; name them properly.
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(f"server disconnected: {cause}")
    if isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(cause, asyncio.TimeoutError):
        return httpx.ConnectError(str(cause))
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.ReadError(str(cause))
    return exc


class _CappedAsyncStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, host: str, max_bytes: int) -> None:
        self._inner, self._host, self._max = inner, host, max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        try:
            async for chunk in self._inner:
                seen += len(chunk)
                if seen > self._max:
                    raise too_large(self._host, self._max)
                yield chunk
        except EgressError:
            raise
        except httpx.TransportError as exc:
            raise _clarify(exc) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedSyncStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, host: str, max_bytes: int) -> None:
        self._inner, self._host, self._max = inner, host, max_bytes

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._max:
                raise too_large(self._host, self._max)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class GuardedResolver(AbstractResolver):
    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict]:
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(None, self._guard.lookup, host, port)
        numeric = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            {"hostname": host, "host": a, "port": port, "proto": 0, "flags": numeric,
             "family": socket.AF_INET6 if ":" in a else socket.AF_INET}
            for a in addresses
        ]

    async def close(self) -> None:
        return None


def _looks_numeric(host: str) -> bool:
    # aiohttp's own test: such hosts skip the resolver and go straight to connect().
    return ":" in host or host.replace(".", "").isdigit()


class AsyncGuardedTransport(AiohttpTransport):
    """One per event loop: the aiohttp session it creates on first use belongs to that loop."""

    def __init__(self, guard: Guard, max_body_bytes: int, **kwargs: object) -> None:
        super().__init__(trust_env=False, **kwargs)
        self._guard, self._max_body = guard, max_body_bytes
        self._allowed_literals: set[tuple[str, int]] = set()  # an IP literal's verdict never changes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_requestable(request.url)
        host, port = host_port(request.url)
        if _looks_numeric(host) and (host, port) not in self._allowed_literals:
            try:
                ip_address(host)
            except ValueError:  # 2130706433, 127.1: what getaddrinfo makes of them is checked
                await asyncio.get_running_loop().run_in_executor(None, self._guard.lookup, host, port)
            else:
                self._guard.check(host, port, [host])
                self._allowed_literals.add((host, port))
        try:
            response = await super().handle_async_request(request)
        except EgressError:
            raise
        except httpx.TransportError as exc:
            raise _clarify(exc) from exc
        if declared_too_large(response, self._max_body):
            await response.aclose()
            raise too_large(host, self._max_body)
        response.stream = _CappedAsyncStream(response.stream, host, self._max_body)
        return response


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, guard: Guard) -> None:
        self._inner, self._guard = inner, guard

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Iterable | None = None,
                    ) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self._guard.lookup(host, port):
            try:  # connect to the address we checked, never re-resolve the name
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error  # type: ignore[misc]

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        raise EgressDenied("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class SyncGuardedTransport(httpx.HTTPTransport):
    def __init__(self, guard: Guard, max_body_bytes: int, **kwargs: object) -> None:
        super().__init__(trust_env=False, **kwargs)
        pool = self._pool
        # httpx has no public network-backend hook; fail loudly if its internals move.
        if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
            raise RuntimeError("httpx/httpcore internals changed: cannot install the egress guard")
        pool._network_backend = _GuardedBackend(pool._network_backend, guard)
        self._max_body = max_body_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_requestable(request.url)
        response = super().handle_request(request)
        if declared_too_large(response, self._max_body):
            response.close()
            raise too_large(request.url.host, self._max_body)
        response.stream = _CappedSyncStream(response.stream, request.url.host, self._max_body)
        return response


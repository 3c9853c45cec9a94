"""The OpenAI-compatible gateway at /gateway/v1: a raw ASGI app in front of Django (no middleware, no views).

Per request: one indexed read authenticates the deployment key and returns the deployment's stamp; the
routing table is cached per process (apps.deployments.selectors.routes). The session picks the A/B
variant; the version's prompt, model and params are applied (apps.gateway.prompts); the call goes out
through the egress client (apps.gateway.forward); the GatewayRequest row is queued for the batch writer
(apps.gateway.recorder) after the last byte is sent. Database work runs on the gateway's own threads.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import secrets
import time
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from apps.deployments.routing import variant_index
from apps.deployments.selectors.routes import RouteTable, VersionRoute, prompt_digest, route_for_key
from apps.deployments.success import EMPTY_REPLY, recorded_success
from apps.engine import egress
from apps.gateway import replies
from apps.gateway.forward import Outcome, forward
from apps.gateway.prompts import BadRequest, caller_system_prompt, check_body, upstream_body
from apps.gateway.recorder import Recorder
from apps.gateway.sse import token_count
from apps.gateway.tracking import track_prompt

T = TypeVar("T")
PREFIX = "/gateway/"
CHAT_PATH = "/gateway/v1/chat/completions"
MODELS_PATH = "/gateway/v1/models"
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_SESSION_CHARS = 200
MAX_JSON_DEPTH = 64  # deeper bodies are refused: the upstream request is encoded again, deeper in the stack
MAX_COST_USD = Decimal("999999.99999999")  # GatewayRequest.cost_usd: 14 digits, 8 after the point
MAX_REFUSED_PROMPTS = 1000  # per routing table: system prompts auto-tracking refused, not asked again
READER_THREADS = 4
MAX_CONNECTIONS = 512


def _run(fn: Callable[[], T], retry: bool) -> T:
    try:
        return fn()
    except (InterfaceError, OperationalError):
        connection.close()  # a dropped database connection: the next call opens a fresh one
        if not retry:
            raise
        return fn()


class DbThreads:
    """Single-thread executors, each keeping one database connection: a few for reads, one for writes."""

    def __init__(self, readers: int = READER_THREADS) -> None:
        self.readers = [ThreadPoolExecutor(1, thread_name_prefix="gateway-read") for _ in range(readers)]
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="gateway-write")
        self._turn = itertools.count()

    async def read(self, fn: Callable[[], T]) -> T:
        pool = self.readers[next(self._turn) % len(self.readers)]
        return await asyncio.get_running_loop().run_in_executor(pool, _run, fn, True)

    async def write(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.writer, _run, fn, False)

    def close(self) -> None:
        """Close each thread's connection (a test database can then be dropped) and stop the threads."""
        for pool in [*self.readers, self.writer]:
            pool.submit(lambda: connection.close()).result()  # looked up in that thread
            pool.shutdown()


class LoopState:
    """What belongs to one event loop: the egress clients (aiohttp sessions are loop-bound) and the writer."""

    def __init__(self, db: DbThreads) -> None:
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.recorder = Recorder(db.write)

    def client(self, table: RouteTable) -> httpx.AsyncClient:
        client = self.clients.get(table.allowlist_text)
        if client is None:
            allowlist = egress.Allowlist.parse(table.allowlist_text) if table.allowlist_text.strip() else None
            # Per-request timeouts come from each endpoint; the pool is shared by every deployment.
            client = egress.async_client(policy=egress.Policy.LLM, allowlist=allowlist,
                                         max_connections=MAX_CONNECTIONS, max_body_bytes=egress.LLM_MAX_BODY_BYTES)
            self.clients[table.allowlist_text] = client
        return client

    async def aclose(self) -> None:
        await self.recorder.flush()
        self.recorder.close()
        await asyncio.gather(*(c.aclose() for c in self.clients.values()), return_exceptions=True)
        self.clients.clear()


def _headers(scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}


async def _read_body(receive) -> bytes | None:
    """The request body, or None past MAX_BODY_BYTES."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return bytes(body)
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body"):
            return bytes(body)


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests objects/arrays more than `limit` levels deep (iteratively)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _parse(raw: bytes) -> Any:
    """The body's JSON (ValueError if it is none), BadRequest if it nests deeper than MAX_JSON_DEPTH."""
    too_deep = BadRequest(f"The body nests JSON more than {MAX_JSON_DEPTH} levels deep.")
    try:
        value = json.loads(raw)
    except RecursionError:  # `[[[[…`: the decoder recurses once per level
        raise too_deep from None
    if isinstance(value, dict | list) and _nested_deeper_than(value, MAX_JSON_DEPTH):
        raise too_deep
    return value


def _bearer(headers: dict[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON)
        return False
    return True


class Gateway:
    """The ASGI app. One per process; `drain()` writes queued metrics now (tests, shutdown)."""

    def __init__(self) -> None:
        self.db = DbThreads()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopState] = weakref.WeakKeyDictionary()
        # deployment id -> (the table's stamp and load time, digests of system prompts tracking refused)
        self._refused: dict[str, tuple[tuple, set[str]]] = {}

    def state(self) -> LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = LoopState(self.db)
        return state

    async def drain(self) -> None:
        await self.state().recorder.flush()

    async def aclose(self) -> None:
        state = self._states.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.aclose()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path not in (CHAT_PATH, MODELS_PATH):
            return await replies.send_error(send, 404, f"Unknown gateway path {path[:200]}: use POST {CHAT_PATH} "
                                            f"or GET {MODELS_PATH}.", type_="invalid_request_error", code="not_found")
        wanted = "POST" if path == CHAT_PATH else "GET"
        if method != wanted:
            return await replies.send_error(send, 405, f"Use {wanted} for {path}.", type_="invalid_request_error",
                                            code="method_not_allowed", headers=[(b"allow", wanted.encode())])
        started = time.perf_counter()
        headers = _headers(scope)
        table = await self._authenticate(send, headers)
        if table is None:
            return
        if path == MODELS_PATH:
            return await self._models(send, table)
        await self._chat(send, receive, headers, table, started)

    async def _authenticate(self, send, headers: dict[str, str]) -> RouteTable | None:
        raw = _bearer(headers)
        auth = [(b"www-authenticate", b'Bearer realm="promptlooper-gateway"')]
        if not raw:
            await replies.send_error(send, 401, "Send a deployment key: Authorization: Bearer plg_…",
                                     type_="invalid_request_error", code="missing_api_key", headers=auth)
            return None
        table = await self.db.read(lambda: route_for_key(raw=raw))
        if table is None:
            await replies.send_error(send, 401, "Invalid or revoked deployment key.", type_="invalid_request_error",
                                     code="invalid_api_key", headers=auth)
            return None
        named = headers.get("x-promptlooper-deployment", "").strip()
        if named and named not in (table.deployment_id, table.name):
            # A key reaches its own deployment only; whether another one exists is not said.
            await replies.send_error(send, 404, "No such deployment for this key.", type_="invalid_request_error",
                                     code="deployment_not_found", param="X-PromptLooper-Deployment")
            return None
        return table

    async def _models(self, send, table: RouteTable) -> None:
        data = [{"id": name, "object": "model", "created": 0, "owned_by": "promptlooper"} for name in table.models()]
        await replies.send_body(send, 200, json.dumps({"object": "list", "data": data}).encode())

    async def _chat(self, send, receive, headers: dict[str, str], table: RouteTable, started: float) -> None:
        raw = await _read_body(receive)
        if raw is None:
            return await replies.send_error(send, 413, f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                                            type_="invalid_request_error", code="body_too_large")
        try:
            body = check_body(_parse(raw))
            session_id, assigned = self._session(headers, body)
        except (ValueError, BadRequest) as exc:
            param = exc.param if isinstance(exc, BadRequest) else None
            message = str(exc) if isinstance(exc, BadRequest) else f"The body is not valid JSON: {exc}"
            return await replies.send_error(send, 400, message, type_="invalid_request_error", param=param)
        created_at = timezone.now()
        version, variant = await self._route(table, body, session_id)
        request_id = str(uuid.uuid4())
        out_headers = [(b"x-promptlooper-request-id", request_id.encode())]
        if version is not None:
            out_headers.append((b"x-promptlooper-version", str(version.number).encode()))
        if variant is not None:
            out_headers.append((b"x-promptlooper-variant", replies.header_value(variant.name)))
        if assigned:
            out_headers += [(b"x-promptlooper-session", b"assigned"),
                            (b"x-promptlooper-session-id", session_id.encode())]
        upstream = upstream_body(body, table=table, version=version)
        stream = body.get("stream") is True
        options = body.get("stream_options")
        keep_usage = isinstance(options, dict) and options.get("include_usage") is True
        state = self.state()
        auto_test = table.ab_test.id if table.ab_test and table.ab_test.auto_complete else None
        outcome = Outcome()  # filled in by forward as it goes: tokens counted survive a failure midway
        try:
            if table.endpoint_active:
                await forward(send, endpoint=table.endpoint, client=state.client(table), body=upstream,
                              stream=stream, keep_usage_chunk=keep_usage, headers=out_headers, outcome=outcome)
            else:
                outcome.status_code, outcome.error = 503, "the deployment's endpoint is disabled"
                await replies.send_error(send, 503, "The deployment's endpoint is disabled.", type_="upstream_error",
                                         code="endpoint_disabled", headers=out_headers)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError | OSError):
                outcome.status_code, outcome.error = 499, "the caller went away before the reply was sent"
            else:  # a gateway bug: raised on to the server (which logs it); the row says so
                outcome.status_code, outcome.error = 500, f"gateway error: {type(exc).__name__}"
            raise
        finally:  # one row per forwarded request, whatever happened
            state.recorder.add(self._row(table, version, variant, session_id, assigned, request_id, upstream["model"],
                                         stream, outcome, started, created_at), auto_complete_test=auto_test)

    def _session(self, headers: dict[str, str], body: dict) -> tuple[str, bool]:
        session = headers.get("x-session-id", "").strip() or (body["user"].strip() if isinstance(body.get("user"), str)
                                                               else "")
        if not session:
            return secrets.token_hex(16), True
        if len(session) > MAX_SESSION_CHARS or "\x00" in session or not _encodable(session):
            raise BadRequest(f"The session id (X-Session-Id or 'user') must be at most {MAX_SESSION_CHARS} characters "
                             f"of text (no NUL, no lone surrogates).", "user")
        return session, False

    def _refused_for(self, table: RouteTable) -> set[str]:
        """System prompts auto-tracking refused under this table (too long, NUL…): not sent to the writer again."""
        stamp = (table.stamp, table.loaded_at)
        entry = self._refused.get(table.deployment_id)
        if entry is None or entry[0] != stamp or len(entry[1]) >= MAX_REFUSED_PROMPTS:
            entry = self._refused[table.deployment_id] = (stamp, set())
        return entry[1]

    async def _route(self, table: RouteTable, body: dict, session_id: str):
        """(version, variant) for this request: the session's A/B arm, else the active (or just tracked) version."""
        version = table.active
        if table.auto_track:
            prompt = caller_system_prompt(body["messages"])
            digest = prompt_digest(prompt) if prompt and prompt.strip() else None
            if digest is not None and digest not in table.known_prompts and digest not in self._refused_for(table):
                tracked = await self.db.write(lambda: track_prompt(deployment_id=table.deployment_id, prompt=prompt))
                if tracked is not None:
                    version = tracked
                else:  # refused (or tracked by another process: its revision bump brings a new table anyway)
                    self._refused_for(table).add(digest)
        if table.ab_test is None:
            return version, None
        test = table.ab_test
        variant = test.variants[variant_index(salt=test.id, session_id=session_id, weights=test.weights)]
        return variant.version, variant

    def _row(self, table: RouteTable, version: VersionRoute | None, variant, session_id: str, assigned: bool,
             request_id: str, model: str, stream: bool, outcome: Outcome, started: float, created_at) -> dict[str, Any]:
        error = outcome.error or ("" if outcome.has_content or outcome.status_code != 200 else EMPTY_REPLY)
        # From the row's own fields, as feedback recomputes it later (the reply is not stored).
        success = recorded_success(criteria=table.success_criteria, status_code=outcome.status_code, error=error,
                                   helpful=None)
        # Upstream's usage figures are not trusted to fit the columns: one row that cannot be stored would
        # hold back the batch it is in.
        tokens_in, tokens_out = token_count(outcome.tokens_in), token_count(outcome.tokens_out)
        cost = table.endpoint.cost_usd(model, tokens_in, tokens_out)
        cost_usd = min(Decimal(str(round(cost, 8))), MAX_COST_USD) if math.isfinite(cost) and cost > 0 else Decimal(0)
        return dict(
            request_id=request_id, deployment_id=table.deployment_id, version_id=version.id if version else None,
            ab_test_id=table.ab_test.id if variant is not None else None, variant_id=variant.id if variant else None,
            session_id=session_id, session_assigned=assigned, endpoint_id=table.endpoint.id, model=model[:200],
            streamed=stream, status_code=outcome.status_code, success=success, error=error[:500],
            latency_ms=round((time.perf_counter() - started) * 1000), tokens_in=tokens_in,
            tokens_out=tokens_out, cost_usd=cost_usd, created_at=created_at,
        )


_gateway: Gateway | None = None


def gateway() -> Gateway:
    """The process's gateway app (created on first use)."""
    global _gateway
    if _gateway is None:
        _gateway = Gateway()
    return _gateway


def with_gateway(http_app):
    """`http_app` with /gateway/… in front of it."""

    async def dispatch(scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            return await gateway()(scope, receive, send)
        return await http_app(scope, receive, send)

    return dispatch

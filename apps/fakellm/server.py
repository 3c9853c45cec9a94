"""Fake OpenAI-compatible LLM server for tests, benchmarks and the demo.

Pure aiohttp, importable without Django.  Run it with
``python -m apps.fakellm.server --port 8401`` or ``python manage.py fakellm``,
or in-process with ``FakeLLMServer().start()`` (see the ``fake_llm`` fixture in the root conftest.py).

Routes (only under ``/v1`` except health):
    GET  /health                -> {"status": "ok"}
    GET  /v1/models             -> OpenAI list of default, demo, fault and flaky models
    POST /v1/chat/completions   -> plain or ``"stream": true`` SSE reply
    POST /v1/embeddings         -> unit-length vectors (dim 64, or ``dimensions``)
    POST /v1/messages           -> Anthropic Messages API reply (non-streaming; needs
                                   ``anthropic-version`` and ``max_tokens``; counted as "chat")

Replies are deterministic: ``"[<model>] echo: <first 200 chars of the last
user message> #<8 hex>"`` where the hex comes from a SHA-256 of (model,
messages, temperature, top_p, seed, max_tokens).  ``max_tokens`` (or
``max_completion_tokens``) cuts the reply after that many words and sets
``finish_reason`` to ``"length"``.  Token counts are word counts.

Demo models: a model named ``demo-*`` (listed: ``demo-mini``, ``demo-pro``) answers with a
plausible support reply whose rubric keywords depend on the model, the temperature and the system
prompt, deterministically per request; the demo project (``apps.instance.demo``) sweeps them.
See ``apps.fakellm.demo``.

A/B models: a model named ``ab-*`` (listed: ``ab-chat``) answers with an empty reply for 5 % of requests
when the system prompt says "concise" and 25 % otherwise, deterministically per (system prompt, ``user``,
last user message), so an A/B test through the gateway has a known loser. See ``apps.fakellm.abtest``.

Scripted replies: if the last user message has a line ``REPLY: <text>``, the
reply content is exactly ``<text>`` (rest of that line; ``\\n`` escapes become
newlines).  Streams split the content into word pieces; the finish chunk
always carries ``usage`` and ``stream_options.include_usage`` adds the
OpenAI-style final chunk with empty ``choices``.  Embeddings honour
``encoding_format: "base64"`` (little-endian float32, as the openai SDK asks).

Fault injection, chosen by MODEL NAME or by header ``X-Fake-Fault: <mode>``
(any model; ``429`` and ``fault-429`` are both accepted).  Faults apply to chat
and embeddings; unknown ``fault-*`` / ``flaky-*`` names get a 400.
    fault-429        429 rate-limit error JSON with ``Retry-After`` header
    fault-500        500 server_error JSON
    fault-400        400 invalid_request_error JSON
    fault-401        401 invalid_api_key JSON
    fault-hang       never answers (sleeps 3600 s; other requests unaffected)
    fault-malformed  200 application/json with broken JSON (stream: a broken
                     ``data:`` event followed by ``[DONE]``)
    fault-truncate   stream: two SSE chunks, then the connection drops with no
                     ``[DONE]``; plain: Content-Length larger than the bytes sent
    flaky-429-N      429 for the first N attempts of each distinct request body,
    flaky-500-N      then a normal reply (counters clear on ``reset_stats()``)

Headers: ``X-Fake-Latency-Ms`` overrides the server-wide latency for one
request (asyncio sleep before answering); ``X-Fake-Retry-After`` sets the
``Retry-After`` value of 429 replies (default ``1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web

from apps.fakellm import abtest, demo, faults, replies
from apps.fakellm.faults import Fault, UnknownFault, error_response
from apps.fakellm.stats import DEFAULT_MODELS, RecordedRequest, State, Stats

__all__ = ["DEFAULT_MODELS", "FakeLLMServer", "RecordedRequest", "Stats", "build_app", "serve"]

MODEL_CREATED = 1_700_000_000


STATE = web.AppKey("fakellm_state", State)


def parse_json(raw: bytes) -> tuple[Any, web.Response | None]:
    try:
        return json.loads(raw), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return raw.decode("utf-8", "replace"), error_response(
            400, f"We could not parse the JSON body of your request: {exc}"
        )


def missing_param(body: Any, name: str, kind: type) -> web.Response | None:
    if not isinstance(body, dict):
        return error_response(400, "The request body must be a JSON object.")
    value = body.get(name)
    if not isinstance(value, kind) or not value:
        message = f"Missing or invalid required parameter: '{name}'."
        return error_response(400, message, param=name)
    return None


async def read_body(request: web.Request, route: str) -> tuple[bytes, Any, web.Response | None]:
    raw = await request.read()
    body, error = parse_json(raw)
    request.app[STATE].stats.record(route, body, request.headers)
    return raw, body, error


def fault_for(
    request: web.Request, body: dict[str, Any]
) -> tuple[Fault | None, web.Response | None]:
    try:
        header = request.headers.get("X-Fake-Fault")
        return faults.select_fault(body.get("model"), header), None
    except UnknownFault as exc:
        return None, error_response(400, f"Unknown fake fault mode: '{exc}'.", param="model")


async def delay(request: web.Request) -> None:
    latency = request.app[STATE].latency_ms
    header = request.headers.get("X-Fake-Latency-Ms")
    if header is not None:
        try:
            latency = float(header)
        except ValueError:
            pass
    if latency > 0:
        await asyncio.sleep(latency / 1000)


async def serve_fault(
    request: web.Request, fault: Fault, raw: bytes, stream: bool,
    payload: Callable[[], dict[str, Any] | list[dict[str, Any]]],
) -> web.StreamResponse | None:
    """Fault response, or None when a flaky fault lets this attempt through."""
    state = request.app[STATE]
    if fault.flaky_times and not state.flaky.should_fail(fault, raw):
        return None
    state.stats.record_fault(fault.name)
    if fault.mode == "hang":
        return await faults.hang()
    if fault.mode == "malformed":
        return await faults.malformed(request, stream)
    if fault.mode == "truncate":
        return await faults.truncate(request, stream, payload())
    retry_after = request.headers.get("X-Fake-Retry-After", "1")
    return faults.status_fault(fault.mode, retry_after)


async def faulted_or_delayed(
    request: web.Request, body: dict[str, Any], raw: bytes, stream: bool,
    payload: Callable[[], dict[str, Any] | list[dict[str, Any]]],
) -> web.StreamResponse | None:
    """After the configured latency: the requested fault's response, or None to answer normally."""
    fault, error = fault_for(request, body)
    if error:
        return error
    await delay(request)
    if fault is None:
        return None
    return await serve_fault(request, fault, raw, stream, payload)


def sse(item: dict[str, Any] | str) -> bytes:
    data = item if isinstance(item, str) else json.dumps(item)
    return f"data: {data}\n\n".encode()


async def stream_chat(request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    resp = web.StreamResponse(headers=headers)
    await resp.prepare(request)
    pause = abtest.stream_pause_s(body.get("model"))
    try:
        for index, item in enumerate(replies.chat_chunks(body)):
            if pause and index:
                await asyncio.sleep(pause)  # ab-* models stream like a real server: pieces apart in time
            await resp.write(sse(item))
        await resp.write(sse("[DONE]"))
    except ConnectionError:
        # The client left mid-stream; aiohttp would log this as a handler error.
        pass
    return resp


async def chat_handler(request: web.Request) -> web.StreamResponse:
    raw, body, error = await read_body(request, "chat")
    error = error or missing_param(body, "model", str) or missing_param(body, "messages", list)
    if error:
        return error
    stream = body.get("stream") is True
    build = replies.chat_chunks if stream else replies.chat_completion
    resp = await faulted_or_delayed(request, body, raw, stream, partial(build, body))
    if resp is not None:
        return resp
    if stream:
        return await stream_chat(request, body)
    return web.json_response(replies.chat_completion(body))


async def embeddings_handler(request: web.Request) -> web.StreamResponse:
    raw, body, error = await read_body(request, "embeddings")
    error = error or missing_param(body, "model", str)
    if error:
        return error
    texts = replies.embedding_inputs(body.get("input"))
    if texts is None:
        message = "'input' must be a non-empty string, list of strings or token list."
        return error_response(400, message, param="input")
    resp = await faulted_or_delayed(request, body, raw, False, partial(replies.embeddings, body, texts))
    if resp is not None:
        return resp
    return web.json_response(replies.embeddings(body, texts))


async def messages_handler(request: web.Request) -> web.StreamResponse:
    raw, body, error = await read_body(request, "chat")
    error = error or missing_param(body, "model", str) or missing_param(body, "messages", list)
    error = error or missing_param(body, "max_tokens", int)
    if error is None and "anthropic-version" not in request.headers:
        error = error_response(400, "anthropic-version: header is required.")
    if error:
        return error
    resp = await faulted_or_delayed(request, body, raw, False, partial(replies.anthropic_message, body))
    if resp is not None:
        return resp
    return web.json_response(replies.anthropic_message(body))


def model_entry(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "fakellm"}


async def models_handler(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.stats.record("models", None, request.headers)
    names = state.models + demo.DEMO_MODELS + abtest.AB_MODELS + faults.FAULT_MODELS + faults.FLAKY_EXAMPLE_MODELS
    return web.json_response({"object": "list", "data": [model_entry(n) for n in names]})


async def health_handler(request: web.Request) -> web.Response:
    request.app[STATE].stats.record("health", None, request.headers)
    return web.json_response({"status": "ok"})


def make_app(state: State) -> web.Application:
    # Prompts in benchmarks can be large; the 1 MiB aiohttp default is too small.
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app.router.add_get("/health", health_handler)
    app.router.add_get("/v1/models", models_handler)
    app.router.add_post("/v1/chat/completions", chat_handler)
    app.router.add_post("/v1/embeddings", embeddings_handler)
    app.router.add_post("/v1/messages", messages_handler)
    return app


def build_app(*, latency_ms: float = 0, models: list[str] | None = None) -> web.Application:
    return make_app(State(latency_ms=latency_ms, models=list(models or DEFAULT_MODELS)))


class FakeLLMServer:
    """The fake server on its own event loop in a daemon thread.

    ``start()`` returns once the socket accepts connections; ``port`` and
    ``base_url`` are valid from then on.  ``stats`` (see ``Stats``) counts
    requests per route; ``reset_stats()`` clears it and the flaky counters;
    ``latency_ms`` may be changed while running.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, latency_ms: float = 0,
        models: list[str] | None = None, start_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self._requested_port = port
        self._start_timeout = start_timeout
        self.state = State(latency_ms=latency_ms, models=list(models or DEFAULT_MODELS))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def stats(self) -> Stats:
        return self.state.stats

    @property
    def latency_ms(self) -> float:
        return self.state.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self.state.latency_ms = value

    def reset_stats(self) -> None:
        """Clear counters, recorded bodies and flaky attempt counts."""
        self.state.stats.reset()
        self.state.flaky.reset()

    def start(self) -> FakeLLMServer:
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="fakellm", daemon=True
        )
        self._thread.start()
        if not ready.wait(self._start_timeout):
            raise RuntimeError("fake LLM server did not start in time")
        if self._error is not None:
            self._thread = None
            raise RuntimeError("fake LLM server failed to start") from self._error
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self._start_timeout)
        self._thread = self._loop = None
        self.port = self._requested_port

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._start_site())
        except BaseException as exc:  # reported to the thread calling start()
            self._error = exc
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            cancel_pending(loop)
            loop.close()

    async def _start_site(self) -> web.AppRunner:
        runner = make_runner(make_app(self.state))
        await runner.setup()
        # A large backlog lets hundreds of clients connect at once without SYN retries.
        site = web.TCPSite(runner, self.host, self._requested_port, backlog=1024)
        await site.start()
        self.port = runner.addresses[0][1]
        return runner


def make_runner(app: web.Application) -> web.AppRunner:
    return web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)


def cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def serve(
    host: str = "127.0.0.1", port: int = 8401, latency_ms: float = 0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve in the foreground until interrupted, announcing the base URL."""
    sock = socket.create_server((host, port), backlog=1024)
    # Listening before announcing means clients may connect as soon as they read the URL.
    announce(f"http://{host}:{sock.getsockname()[1]}/v1")
    web.run_app(
        build_app(latency_ms=latency_ms), sock=sock, access_log=None, print=None,
        handler_cancellation=True, shutdown_timeout=0.5,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible LLM server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.latency_ms, lambda url: print(url, flush=True))


if __name__ == "__main__":
    main()

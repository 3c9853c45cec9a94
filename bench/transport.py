"""HTTP transport overhead against the ideal: N calls of latency L at concurrency C take ≥ N·L/C.

Run: `.venv/bin/python bench/transport.py [--calls 1000] [--latency-ms 50] [--concurrency 16 64]`
against an in-process `FakeLLMServer`. Rows: httpx's own transport, the egress client
(httpx over aiohttp, with the connect-time guard) doing bare POSTs, and the OpenAI adapter on
the egress client (streaming, parsing, usage) — the engine's real per-call path.

Measured on this machine (1000 calls, 50 ms latency; ratio = wall / ideal). Server in-process
(the default; it shares the GIL with the client, and its streamed replies cost it ~13 writes):
    transport                     C   wall s  ideal s  ratio
    httpx default transport      16    3.73     3.12   1.19
    egress client (aiohttp)      16    3.49     3.12   1.12
    openai adapter on egress     16    4.03     3.12   1.29
    httpx default transport      64   11.47     0.78  14.68
    egress client (aiohttp)      64    1.31     0.78   1.67
    openai adapter on egress     64    2.30     0.78   2.94
Server in its own process (`python -m apps.fakellm.server --port 18555 --latency-ms 50`,
then `--base-url http://127.0.0.1:18555/v1`), which isolates the client's own cost:
    httpx default transport      16    3.55     3.12   1.13
    egress client (aiohttp)      16    3.64     3.12   1.17
    openai adapter on egress     16    3.50     3.12   1.12
    httpx default transport      64   11.41     0.78  14.61
    egress client (aiohttp)      64    0.95     0.78   1.21
    openai adapter on egress     64    1.01     0.78   1.29
Ratios vary by ±0.1 between runs out of process, more in process (the adapter at 64 measured
2.0–3.0); either way httpx's own pool is the outlier at 64 in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.engine import egress  # noqa: E402
from apps.engine.providers import provider_for  # noqa: E402
from apps.engine.types import ChatRequest, EndpointSpec  # noqa: E402
from apps.fakellm.server import FakeLLMServer  # noqa: E402

BODY = {"model": "fake-chat", "messages": [{"role": "user", "content": "How fast is this?"}]}


async def drive(call: Callable[[int], Awaitable[object]], calls: int, concurrency: int) -> float:
    """Seconds to make `calls` calls with `concurrency` workers, after one warm-up round."""
    await asyncio.gather(*(call(-i - 1) for i in range(concurrency)))
    counter = iter(range(calls))

    async def worker() -> None:
        for i in counter:
            await call(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def plain_post(client: httpx.AsyncClient, url: str) -> Callable[[int], Awaitable[object]]:
    async def call(i: int) -> None:
        response = await client.post(url, json=BODY)
        response.raise_for_status()

    return call


async def measure(kind: str, base_url: str, calls: int, concurrency: int) -> float:
    url = f"{base_url}/chat/completions"
    if kind == "httpx default transport":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60, trust_env=False) as client:
            return await drive(plain_post(client, url), calls, concurrency)
    async with egress.async_client(policy=egress.Policy.LLM, max_connections=concurrency) as client:
        if kind == "egress client (aiohttp)":
            return await drive(plain_post(client, url), calls, concurrency)
        provider = provider_for(EndpointSpec(id="bench", kind="openai", base_url=base_url), client)

        async def complete(i: int) -> None:
            await provider.complete(ChatRequest("fake-chat", [{"role": "user", "content": f"call {i}"}]))

        return await drive(complete, calls, concurrency)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--base-url", help="a fake server started elsewhere with the same --latency-ms")
    args = parser.parse_args(argv)
    if args.base_url:
        run(args, args.base_url)
        return
    with FakeLLMServer(latency_ms=args.latency_ms) as server:
        run(args, server.base_url)


def run(args: argparse.Namespace, base_url: str) -> None:
    kinds = ["httpx default transport", "egress client (aiohttp)", "openai adapter on egress"]
    print(f"{'transport':<28} {'C':>3} {'wall s':>8} {'ideal s':>8} {'ratio':>6}")
    for concurrency in args.concurrency:
        ideal = args.calls * args.latency_ms / 1000 / concurrency
        for kind in kinds:
            wall = asyncio.run(measure(kind, base_url, args.calls, concurrency))
            print(f"{kind:<28} {concurrency:>3} {wall:>8.2f} {ideal:>8.2f} {wall / ideal:>6.2f}", flush=True)


if __name__ == "__main__":
    main()

"""Gateway overhead: the latency `/gateway/v1/chat/completions` adds over calling the fake server directly.

Run: `.venv/bin/python bench/gateway.py [--requests 3000] [--concurrency 64] [--latency-ms 10] [--stream]
[--postgres postgresql://user@host:5432/postgres] [--py-spy /tmp/gateway.txt]` (py-spy: PY_SPY=/path/to/py-spy)

A fresh stack: the fake LLM server in its own process, a fresh DATA_DIR (SQLite; or a scratch database on
the --postgres server), migrations, a user, an endpoint on the fake server, a deployment with an active
version and a key, and the web process as production runs it (`daphne promptlooper.asgi:application`,
like bin/start). The client is aiohttp (not the httpx/egress stack being measured), `--concurrency`
requests in flight. First the same requests go straight to the fake server (with the prompt the gateway
would apply), then through the gateway; each phase starts with one warm-up round. Two phases: one request
at a time (`--latency-requests`), whose p50/p99 through the gateway minus p50/p99 direct is the latency the
gateway adds; then `--concurrency` clients (`--requests`), whose gateway requests per second is `rps` (at
64 in flight the latency of either path is mostly queueing: concurrency / throughput, Little's law; it is
printed too, as `added_p50_ms_loaded`).
Then the bench waits (up to 10 s) for the GatewayRequest rows: every request, warm-ups included, must have one.
The last line printed is one JSON object: added_p50_ms, added_p99_ms, rps, requests, metric_rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _stack  # noqa: E402

PROMPT = "You are a concise support assistant."


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_deployment(base_url: str) -> str:
    """A user, an endpoint on the fake server, a deployment with an active version; returns a raw key."""
    from apps.accounts.models import User
    from apps.deployments.services.deployments import deployment_create
    from apps.deployments.services.keys import deployment_key_create
    from apps.deployments.services.versions import version_create
    from apps.endpoints.models import Endpoint

    user = User.objects.create_user(username="bench", password="a long bench passphrase")
    endpoint = Endpoint.objects.create(owner=user, label="fake", base_url=base_url,
                                       model_prices={"fake-chat": {"input": 0.15, "output": 0.6}})
    deployment = deployment_create(owner=user, name="bench", endpoint=endpoint, model="fake-chat")
    version_create(deployment=deployment, system_prompt=PROMPT)
    return deployment_key_create(deployment=deployment, name="bench")[1]


def metric_rows() -> int:
    from apps.deployments.models import GatewayRequest

    return GatewayRequest.objects.count()


async def drive(url: str, headers: dict, requests: int, concurrency: int, stream: bool,
                system: str | None) -> tuple[list[float], float]:
    """Per-request latencies (ms) and wall seconds of `requests` calls, after one warm-up round."""
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": "Where is my order? It has been a week."}]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def call(i: int) -> float:
            body = {"model": "fake-chat", "messages": messages, "user": f"session-{i}", "stream": stream}
            started = time.perf_counter()
            async with session.post(url, json=body) as response:
                await response.read()
                assert response.status == 200, (response.status, await response.text())
            return (time.perf_counter() - started) * 1000

        await asyncio.gather(*(call(-i - 1) for i in range(concurrency)))
        latencies: list[float] = []
        counter = iter(range(requests))

        async def worker() -> None:
            for i in counter:
                latencies.append(await call(i))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def wait_healthy(base: str, proc, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("daphne did not answer /health in time")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests of the throughput phase")
    parser.add_argument("--latency-requests", type=int, default=500, help="requests of the one-at-a-time phase")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--py-spy", type=Path, default=None, help="collapsed py-spy stacks of daphne to this file")
    args = parser.parse_args(argv)

    scratch = _stack.Scratch(args.postgres)
    fake = daphne = None
    try:
        fake, fake_url = _stack.start_fake_llm(latency_ms=args.latency_ms, log=scratch.dir / "fakellm.log")
        env = {**scratch.env(), "LOG_LEVEL": "WARNING"}
        setup_django(env)
        key = create_deployment(fake_url)
        port = _stack.free_port()
        log = scratch.dir / "daphne.log"
        daphne = _stack._spawn([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                "promptlooper.asgi:application"], env, log)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, daphne, log)

        spy = _stack.start_py_spy(pid=daphne.pid, out=args.py_spy) if args.py_spy else None
        gw_url, gw_headers = f"{base}/gateway/v1/chat/completions", {"Authorization": f"Bearer {key}"}
        fake_chat = f"{fake_url}/chat/completions"
        # Latency: one request at a time, so the numbers are the gateway's own cost, not queueing.
        quiet_direct, _ = asyncio.run(drive(fake_chat, {}, args.latency_requests, 1, args.stream, PROMPT))
        quiet_gateway, _ = asyncio.run(drive(gw_url, gw_headers, args.latency_requests, 1, args.stream, None))
        # Throughput: --concurrency clients at once.
        direct, direct_s = asyncio.run(drive(fake_chat, {}, args.requests, args.concurrency, args.stream, PROMPT))
        gateway, gateway_s = asyncio.run(drive(gw_url, gw_headers, args.requests, args.concurrency, args.stream,
                                               None))
        if spy is not None:
            _stack.stop_py_spy(spy)
        expected = args.latency_requests + 1 + args.requests + args.concurrency
        deadline = time.monotonic() + 10
        rows = metric_rows()
        while rows < expected and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the batch writer's last flush
            rows = metric_rows()
        cpu = _stack.cpu_seconds(daphne.pid)
    finally:
        _stack.stop(daphne)
        _stack.stop(fake)
        from django.db import connections

        connections.close_all()
        scratch.remove()

    rps = args.requests / gateway_s
    print(f"fake latency {args.latency_ms:g} ms, {'streamed' if args.stream else 'not streamed'}, "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}")
    for label, a, b in (("one at a time", quiet_direct, quiet_gateway),
                        (f"{args.concurrency} in flight", direct, gateway)):
        print(f"{label:>14}: direct p50 {pct(a, 50):7.2f} ms p99 {pct(a, 99):7.2f} ms | gateway p50 "
              f"{pct(b, 50):7.2f} ms p99 {pct(b, 99):7.2f} ms | added p50 {pct(b, 50) - pct(a, 50):6.2f} ms "
              f"p99 {pct(b, 99) - pct(a, 99):6.2f} ms")
    print(f"{args.concurrency} clients: direct {args.requests / direct_s:.0f} req/s, gateway {rps:.0f} req/s "
          f"(daphne CPU {cpu:.1f} s for the whole run)")
    print(f"metric rows {rows} of {expected} requests (warm-ups included)")
    print(json.dumps({"added_p50_ms": round(pct(quiet_gateway, 50) - pct(quiet_direct, 50), 2),
                      "added_p99_ms": round(pct(quiet_gateway, 99) - pct(quiet_direct, 99), 2),
                      "rps": round(rps), "requests": expected, "metric_rows": rows,
                      "added_p50_ms_loaded": round(pct(gateway, 50) - pct(direct, 50), 2)}))

if __name__ == "__main__":
    main()

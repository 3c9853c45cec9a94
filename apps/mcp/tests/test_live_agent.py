"""The spec's example agent session, step by step, with the SDK's own client against a running server
(bin/start: daphne and a real django-q2 worker, calling the fake LLM server): over Streamable HTTP at
/mcp, and over stdio (`manage.py mcp` on the same database and queue)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from apps.mcp.tests.helpers import structured, text_of
from apps.web.tests.browser.stack import ROOT, LiveStack

pytestmark = pytest.mark.asyncio
TEMPERATURES = [0.1, 0.3, 0.5, 0.7, 0.9]
MODELS = ["fake-chat", "fake-chat-large"]


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    with tempfile.TemporaryDirectory(prefix="pl-mcp-") as data_dir:
        live = LiveStack(data_dir=Path(data_dir))
        try:
            live.start()
            yield live
        finally:
            live.stop()


@pytest.fixture(scope="module")
def api_key(stack: LiveStack) -> str:
    """First-boot setup and an API key, over REST as a person would script it."""
    token = stack.setup_link().split("token=", 1)[1]
    with httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=10) as api:
        session = api.post("/auth/setup", json={"username": "admin", "password": "a long mcp passphrase",
                                                "token": token}).raise_for_status().json()
        key = api.post("/auth/keys", json={"name": "agent"},
                       headers={"Authorization": f"Bearer {session['access_token']}"}).raise_for_status().json()
    return key["key"]


def stack_environment(stack: LiveStack) -> dict[str, str]:
    """The environment bin/start runs with (DATA_DIR, QUEUE_NAME, …), so a stdio server shares its DB and queue."""
    raw = Path(f"/proc/{stack.process.pid}/environ").read_bytes()
    return dict(entry.split("=", 1) for entry in raw.decode().split("\0") if "=" in entry)


async def call(session: ClientSession, name: str, arguments: dict, **kwargs) -> dict:
    result = await session.call_tool(name, arguments, **kwargs)
    assert not result.is_error, f"{name}: {text_of(result)}"
    return structured(result)


async def agent_session(session: ClientSession, fake_llm, label: str) -> dict:
    """create project → experiment (5 temperatures × 2 models, embedding similarity) → grid sweep with
    progress → leaderboard → the best configuration as .env → that configuration again as one run (cached),
    waited for. Returns what the agent saw."""
    endpoint = await call(session, "configure_endpoint", {"label": label, "base_url": fake_llm.base_url})
    models = await call(session, "list_models", {"endpoint_id": endpoint["id"]})
    assert set(MODELS) <= set(models["models"])
    project = await call(session, "create_project", {"name": f"{label} project"})
    experiment = await call(session, "create_experiment", {
        "project_id": project["id"], "name": f"{label} summaries",
        "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": f"document {n}"} for n in range(3)],
        "pipeline_stages": [{"name": "answer", "endpoint": endpoint["id"], "model": "fake-chat",
                             "prompt_template": "Summarise: {{ input }}"}],
        "scoring_config": {"scorers": [{"type": "embedding_similarity", "options": {
            "provider": "endpoint", "endpoint": endpoint["id"], "model": "fake-embed"}}]},
        "parameter_space": [{"path": "stages.0.params.temperature", "min": 0.1, "max": 0.9, "step": 0.2},
                            {"path": "stages.0.model", "values": MODELS}],
    })
    estimate = await call(session, "estimate_sweep", {"experiment_id": experiment["id"]})
    assert estimate["runs"] == len(TEMPERATURES) * len(MODELS)

    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    sweep = await call(session, "run_sweep", {"experiment_id": experiment["id"], "type": "grid", "wait": True,
                                              "timeout_s": 120}, progress_callback=on_progress)
    leaderboard = await call(session, "get_leaderboard", {"experiment_id": experiment["id"]})
    export = await call(session, "export_best_config", {"experiment_id": experiment["id"], "format": "env"})
    status = await call(session, "get_experiment_status", {"experiment_id": experiment["id"]})
    single_progress: list[tuple[float, float | None]] = []

    async def on_single_progress(done: float, total: float | None, message: str | None) -> None:
        single_progress.append((done, total))

    # The best configuration once more, as one run: every call is already in the cache.
    single = await call(session, "run_single", {"experiment_id": experiment["id"], "wait": True, "timeout_s": 60,
                                                "point": leaderboard["results"][0]["point"]},
                        progress_callback=on_single_progress)
    return {"sweep": sweep, "progress": progress, "leaderboard": leaderboard, "export": export, "status": status,
            "single": single, "single_progress": single_progress}


def assert_the_agent_saw_a_finished_ranked_sweep(seen: dict) -> None:
    total = len(TEMPERATURES) * len(MODELS)
    assert seen["sweep"]["status"] == "completed" and seen["sweep"]["finished"], seen["sweep"]
    assert seen["sweep"]["runs_done"] == total
    assert seen["progress"] and seen["progress"][-1] == (total, total)
    assert [done for done, _ in seen["progress"]] == sorted(done for done, _ in seen["progress"])
    rows = seen["leaderboard"]["results"]
    assert seen["leaderboard"]["count"] == total
    scores = [row["weighted_score"] for row in rows]
    assert all(score is not None for score in scores) and scores == sorted(scores, reverse=True)
    assert {(row["point"]["stages.0.params.temperature"], row["point"]["stages.0.model"]) for row in rows} == {
        (t, m) for t in TEMPERATURES for m in MODELS}
    best = rows[0]["point"]
    env = seen["export"]["content"]
    assert seen["export"]["filename"].endswith(".env")
    assert best["stages.0.model"] in env and str(best["stages.0.params.temperature"]) in env
    assert seen["status"]["sweep"]["runs_done"] == total
    single = seen["single"]
    assert single["finished"] and single["status"] == "cached", single
    assert single["cache_hits"] == 3 and single["tokens_in"] == 0 and single["point"] == best
    assert single["weighted_score"] == pytest.approx(rows[0]["weighted_score"])
    assert seen["single_progress"][-1] == (1, 1)


async def test_an_agent_runs_the_example_session_over_streamable_http(stack, api_key, fake_llm):
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http, \
            streamable_http_client(f"{stack.base_url}/mcp", http_client=http) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        seen = await agent_session(session, fake_llm, "HTTP agent")
    assert_the_agent_saw_a_finished_ranked_sweep(seen)
    assert fake_llm.stats["chat"] == 30  # 10 configurations × 3 items, each a real call from the worker


async def test_an_agent_runs_the_example_session_over_stdio(stack, api_key, fake_llm):
    params = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp"], cwd=str(ROOT),
                                   env={**stack_environment(stack), "PROMPTLOOPER_API_KEY": api_key})
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        seen = await agent_session(session, fake_llm, "stdio agent")
    assert_the_agent_saw_a_finished_ranked_sweep(seen)


async def test_the_live_endpoint_refuses_a_missing_key_and_an_unknown_host(stack):
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as client:
        no_key = await client.post("/mcp", json={})
        bad_host = await client.post("/mcp", json={}, headers={"host": "evil.example"})
    assert no_key.status_code == 401
    assert bad_host.status_code == 421

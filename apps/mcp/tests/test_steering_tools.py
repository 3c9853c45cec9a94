"""Estimating and steering sweeps over MCP does what the REST endpoints do: each test steers one of two identical
experiments through a tool and the other through REST (same user, same key), and compares what REST then shows."""

from __future__ import annotations

from collections import Counter

import pytest
from asgiref.sync import sync_to_async

from apps.mcp.tests.helpers import in_memory, structured

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
VOLATILE = {"id", "experiment", "created_at", "started_at", "finished_at"}
NEW_SPACE = [{"path": "stages.0.params.temperature", "values": [0.2, 0.4]}]


@sync_to_async
def rest(agent, method: str, path: str, body: dict | None = None) -> dict:
    response = getattr(agent.rest, method)(f"/api/v1{path}", body, format="json")
    assert response.status_code < 300, (path, response.status_code, response.content)
    return response.json()


async def twins(agent, make_experiment) -> tuple[dict, dict]:
    """Two identical experiments, each with a started (queued, undriven) grid sweep; their REST sweep bodies."""
    a, b = [await sync_to_async(make_experiment)(name=name) for name in ("a", "b")]
    return [(await rest(agent, "post", f"/experiments/{e.pk}/sweep", {"type": "grid"}))["sweep"] for e in (a, b)]


async def seen_by_rest(agent, sweep: dict) -> tuple[dict, Counter]:
    """The sweep as REST shows it (less what differs between twins anyway), and its runs by status and point."""
    body = await rest(agent, "get", f"/sweeps/{sweep['id']}")
    runs = (await rest(agent, "get", f"/experiments/{sweep['experiment']}/runs"))["results"]
    return ({k: v for k, v in body.items() if k not in VOLATILE},
            Counter((r["status"], r["point"]["stages.0.params.temperature"]) for r in runs))


async def test_estimate_sweep_equals_the_rest_dry_run(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    async with in_memory(agent.key) as client:
        estimate = structured(await client.call_tool("estimate_sweep", {"experiment_id": str(experiment.pk)}))
    dry_run = await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", {"type": "grid", "dry_run": True})
    assert estimate["runs"] == dry_run["runs"] == 3 and estimate["calls"] == dry_run["calls"] == 6
    assert estimate["points"] == dry_run["points"]
    assert estimate["estimate"] == {k: dry_run["estimate"][k] for k in estimate["estimate"]}
    assert queued == []


async def test_pause_sweep_pauses_like_rest_pause(agent, make_experiment, queued):
    a, b = await twins(agent, make_experiment)
    async with in_memory(agent.key) as client:
        paused = structured(await client.call_tool("pause_sweep", {"experiment_id": a["experiment"],
                                                                   "reason": "paused by user"}))
    await rest(agent, "post", f"/experiments/{b['experiment']}/pause")
    assert paused["status"] == "paused" and paused["pause_reason"] == "paused by user"
    assert await seen_by_rest(agent, a) == await seen_by_rest(agent, b)


async def test_resume_sweep_resumes_like_rest_resume(agent, make_experiment, queued):
    a, b = await twins(agent, make_experiment)
    for sweep in (a, b):
        await rest(agent, "post", f"/experiments/{sweep['experiment']}/pause")
    async with in_memory(agent.key) as client:
        resumed = structured(await client.call_tool("resume_sweep", {"experiment_id": a["experiment"]}))
    await rest(agent, "post", f"/experiments/{b['experiment']}/resume")
    assert resumed["status"] == "running"
    assert await seen_by_rest(agent, a) == await seen_by_rest(agent, b)
    assert Counter(queued) == {a["id"]: 2, b["id"]: 2}  # started, then resumed: the driver is rung again


async def test_stop_sweep_cancels_the_pending_runs_like_rest_stop(agent, make_experiment, queued):
    a, b = await twins(agent, make_experiment)
    async with in_memory(agent.key) as client:
        stopped = structured(await client.call_tool("stop_sweep", {"experiment_id": a["experiment"]}))
        again = await client.call_tool("stop_sweep", {"experiment_id": a["experiment"]})
    await rest(agent, "post", f"/experiments/{b['experiment']}/stop")
    assert stopped["status"] == "stopped" and stopped["finished"]
    seen = await seen_by_rest(agent, a)
    assert seen == await seen_by_rest(agent, b)
    assert set(seen[1]) == {("cancelled", t) for t in (0.1, 0.5, 0.9)}
    assert again.is_error  # idempotent: a second stop changes nothing and says so


async def test_redirect_sweep_replans_the_rest_like_rest_redirect(agent, make_experiment, queued):
    a, b = await twins(agent, make_experiment)
    async with in_memory(agent.key) as client:
        redirected = structured(await client.call_tool("redirect_sweep", {"experiment_id": a["experiment"],
                                                                          "parameter_space": NEW_SPACE}))
    by_rest = await rest(agent, "post", f"/experiments/{b['experiment']}/redirect", {"parameter_space": NEW_SPACE})
    assert (redirected["removed_runs"], redirected["added_runs"]) == (by_rest["removed_runs"],
                                                                      by_rest["added_runs"]) == (3, 2)
    seen = await seen_by_rest(agent, a)
    assert seen == await seen_by_rest(agent, b)
    assert seen[1] == {("pending", 0.2): 1, ("pending", 0.4): 1}

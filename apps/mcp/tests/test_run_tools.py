"""Reading and judging runs over MCP shows and does what the REST endpoints show and do, for the same user's key,
on a grid sweep of three temperatures driven against the fake LLM server."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.activity.models import Event
from apps.mcp.tests.helpers import in_memory, structured
from apps.runs.models import Run

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
FORK_SPACE = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]}]


@sync_to_async
def rest(agent, method: str, path: str, body: dict | None = None, **kwargs) -> dict:
    response = getattr(agent.rest, method)(f"/api/v1{path}", body, format="json", **kwargs)
    assert response.status_code < 300, (path, response.status_code, response.content)
    return response.json()


async def finished_sweep(agent, make_experiment) -> tuple[str, list[str]]:
    """An experiment whose grid sweep has run (through REST); its id and its run ids by temperature."""
    experiment = await sync_to_async(make_experiment)()
    await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", {"type": "grid"})
    runs = (await rest(agent, "get", f"/experiments/{experiment.pk}/runs"))["results"]
    assert {r["status"] for r in runs} == {"completed"}
    return str(experiment.pk), [r["id"] for r in sorted(runs, key=lambda r: r["point"][
        "stages.0.params.temperature"])]


async def test_get_run_detail_shows_what_rest_run_detail_shows(agent, make_experiment, driven):
    _, (run_id, *_) = await finished_sweep(agent, make_experiment)
    async with in_memory(agent.key) as client:
        detail = structured(await client.call_tool("get_run_detail", {"run_id": run_id}))
    by_rest = await rest(agent, "get", f"/runs/{run_id}")
    for field in ("status", "approval", "point", "config_hash", "weighted_score", "tokens_in", "tokens_out",
                  "calls", "cache_hits", "duration_ms", "error"):
        assert detail[field] == by_rest[field], field
    assert detail["config"] == by_rest["config"]
    assert {(o["item_id"], o["stages"][0]["output"]) for o in detail["outputs"]} == {
        (r["item_id"], r["response_raw"]) for r in by_rest["stage_results"]}
    assert detail["items_total"] == 2 and detail["scores"]["length"]["n"] == 2


async def test_approve_and_reject_run_change_what_rest_and_the_leaderboard_show(agent, make_experiment, driven):
    experiment_id, (first, second, third) = await finished_sweep(agent, make_experiment)
    async with in_memory(agent.key) as client:
        approved = structured(await client.call_tool("approve_run", {"run_id": first}))
        rejected = structured(await client.call_tool("reject_run", {"run_id": second}))
        before = structured(await client.call_tool("get_leaderboard", {"experiment_id": experiment_id}))
        await rest(agent, "post", f"/runs/{third}/reject")
        after = structured(await client.call_tool("get_leaderboard", {"experiment_id": experiment_id}))
    assert (approved["approval"], rejected["approval"]) == ("approved", "rejected")
    assert (await rest(agent, "get", f"/runs/{first}"))["approval"] == "approved"
    assert (await rest(agent, "get", f"/runs/{second}"))["approval"] == "rejected"
    assert {row["run_id"] for row in before["results"]} == {first, third}
    by_rest = await rest(agent, "get", f"/experiments/{experiment_id}/leaderboard")
    shown = [(row["run_id"], row["rank"], row["approved"], row["weighted_score"]) for row in after["results"]]
    assert shown == [(row["run_id"], row["rank"], row["approved"], row["weighted_score"])
                     for row in by_rest["results"]]
    assert [row["run_id"] for row in after["results"]] == [first] and after["results"][0]["approved"]


async def test_fork_run_creates_the_experiment_rest_fork_creates(agent, make_experiment, driven):
    _, (run_id, *_) = await finished_sweep(agent, make_experiment)
    async with in_memory(agent.key) as client:
        forked = structured(await client.call_tool("fork_run", {"run_id": run_id, "name": "by MCP",
                                                                "parameter_space": FORK_SPACE}))
    by_rest = await rest(agent, "post", f"/runs/{run_id}/fork", {"name": "by REST", "parameter_space": FORK_SPACE})
    mine = await rest(agent, "get", f"/experiments/{forked['experiment_id']}")
    theirs = await rest(agent, "get", f"/experiments/{by_rest['id']}")
    assert (mine["name"], forked["project_id"]) == ("by MCP", by_rest["project"])
    assert mine["pipeline_stages"] == theirs["pipeline_stages"] == by_rest["pipeline_stages"]
    assert mine["parameter_space"] == theirs["parameter_space"] == by_rest["parameter_space"]
    assert mine["pipeline_stages"][0]["params"]["temperature"] == 0.1  # the run's point, baked in


async def test_add_human_score_rates_a_run_as_rest_score_does(agent, make_experiment, driven):
    _, (first, second, _) = await finished_sweep(agent, make_experiment)
    async with in_memory(agent.key) as client:
        rating = structured(await client.call_tool("add_human_score", {"run_id": first, "stars": 4,
                                                                       "scorer": "quality"}))
    by_rest = await rest(agent, "post", f"/runs/{second}/score", {"stars": 4, "scorer": "quality"})
    assert rating["scorer"] == by_rest["scorer"] == "quality"
    assert rating["value"] == by_rest["value"] == 0.75
    first_run, second_run = [await sync_to_async(Run.objects.get)(pk=pk) for pk in (first, second)]
    assert rating["weighted_score"] == first_run.weighted_score
    assert by_rest["weighted_score"] == second_run.weighted_score
    assert (await rest(agent, "get", f"/runs/{first}"))["weighted_score"] == rating["weighted_score"]


async def test_compare_runs_returns_the_rest_comparison(agent, make_experiment, driven):
    _, (first, second, _) = await finished_sweep(agent, make_experiment)
    async with in_memory(agent.key) as client:
        compared = structured(await client.call_tool("compare_runs", {"run_a_id": first, "run_b_id": second}))
    by_rest = await rest(agent, "get", "/runs/compare", None, QUERY_STRING=f"a={first}&b={second}&limit=20")
    assert compared["comparison"] == by_rest
    assert compared["comparison"]  # not two empty answers


async def test_get_timeline_lists_the_experiments_events_newest_first(agent, make_experiment, driven):
    experiment_id, (first, *_) = await finished_sweep(agent, make_experiment)
    await rest(agent, "post", f"/runs/{first}/approve")
    async with in_memory(agent.key) as client:
        timeline = structured(await client.call_tool("get_timeline", {"experiment_id": experiment_id}))
        approvals = structured(await client.call_tool("get_timeline", {"experiment_id": experiment_id,
                                                                       "kinds": ["run.approved"]}))
    stored = await sync_to_async(list)(Event.objects.filter(experiment_id=experiment_id).order_by("-created_at")
                                       .values_list("kind", flat=True))
    assert [e["kind"] for e in timeline["events"]] == stored and timeline["count"] == len(stored)
    assert stored[0] == "run.approved" and stored.count("run.completed") == 3 and "experiment.started" in stored
    assert [(e["kind"], e["run_id"]) for e in approvals["events"]] == [("run.approved", first)]


async def test_list_models_returns_what_the_rest_endpoint_test_finds(agent, endpoint):
    async with in_memory(agent.key) as client:
        models = structured(await client.call_tool("list_models", {"endpoint_id": str(endpoint.pk)}))
    by_rest = await rest(agent, "post", f"/endpoints/{endpoint.pk}/test")
    assert models["ok"] and by_rest["ok"]
    assert models["models"] == by_rest["models"] and "fake-chat" in models["models"]

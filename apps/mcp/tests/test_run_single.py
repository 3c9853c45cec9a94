"""run_single: one configuration, through the same service as REST's POST /runs, optionally waited for."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.mcp.tests.helpers import in_memory, structured, text_of
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
POINT = {"stages.0.params.temperature": 0.7}


async def test_run_single_with_wait_returns_the_finished_scored_run_and_reports_progress(
        agent, make_experiment, driven, fake_llm):
    experiment = await sync_to_async(make_experiment)(n_items=3)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    async with in_memory(agent.key) as client:
        run = structured(await client.call_tool("run_single", {
            "experiment_id": str(experiment.pk), "point": POINT, "wait": True, "timeout_s": 60},
            progress_callback=on_progress))
    assert run["finished"] and run["status"] == "completed", run
    assert run["point"] == POINT and run["calls"] == 3 and fake_llm.stats["chat"] == 3
    assert run["tokens_in"] > 0 and run["scores"]["length"]["n"] == 3 and run["weighted_score"] is not None
    assert progress and progress[-1] == (1, 1)
    sweep = await sync_to_async(Sweep.objects.get)(pk=run["sweep_id"])
    assert sweep.kind == "single" and driven == [run["sweep_id"]]


async def test_run_single_runs_what_rest_post_runs_runs_for_the_same_point(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    async with in_memory(agent.key) as client:
        mcp_run = structured(await client.call_tool("run_single", {"experiment_id": str(experiment.pk),
                                                                   "point": POINT}))
    response = await sync_to_async(agent.rest.post)("/api/v1/runs", {"experiment": str(experiment.pk),
                                                                     "point": POINT}, format="json")
    assert response.status_code == 202, response.content
    rest_run = response.json()
    # Without wait it answers at once with the queued run; the same input gives the same configuration.
    assert mcp_run["status"] == rest_run["status"] == "pending" and not mcp_run["finished"]
    assert mcp_run["config_hash"] == rest_run["config_hash"] and mcp_run["point"] == rest_run["point"]
    assert queued == [mcp_run["sweep_id"], rest_run["sweep"]]


async def test_run_single_over_inline_items_calls_the_model_once_per_item(agent, make_experiment, queued,
                                                                          fake_llm):
    experiment = await sync_to_async(make_experiment)(n_items=5)
    async with in_memory(agent.key) as client:
        run = structured(await client.call_tool("run_single", {
            "experiment_id": str(experiment.pk), "items": [{"id": "only", "input": "one document"}]}))
    await sync_to_async(sweep_drive)(run["sweep_id"])
    done = await sync_to_async(Run.objects.get)(pk=run["run_id"])
    assert done.status == Run.Status.COMPLETED and done.calls == 1 and fake_llm.stats["chat"] == 1


async def test_run_single_refuses_a_bad_point_naming_it_and_starts_nothing(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    async with in_memory(agent.key) as client:
        result = await client.call_tool("run_single", {"experiment_id": str(experiment.pk),
                                                       "point": {"stages.0.params.temperature": 99}})
    assert result.is_error and "point.stages.0.params.temperature" in text_of(result)
    assert await sync_to_async(Run.objects.count)() == 0 and queued == []

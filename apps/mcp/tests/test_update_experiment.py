"""update_experiment follows REST PATCH: a field left out keeps its value, a budget sent as null is removed, and
null for a field that cannot be empty is refused, naming it."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.mcp.tests.helpers import in_memory, structured, text_of

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
SAME_EITHER_WAY = ("name", "description", "repeats", "budget_tokens", "budget_usd", "sample_data",
                   "pipeline_stages", "scoring_config", "parameter_space")


@sync_to_async
def rest_experiment(agent, experiment_id, patch: dict | None = None) -> dict:
    path = f"/api/v1/experiments/{experiment_id}"
    response = agent.rest.patch(path, patch, format="json") if patch is not None else agent.rest.get(path)
    assert response.status_code == 200, response.content
    return response.json()


async def test_a_null_budget_removes_it_as_a_rest_patch_does_and_the_other_budget_stays(agent, make_experiment):
    mine, theirs = [await sync_to_async(make_experiment)(name="e", budget_tokens=5000, budget_usd=2.5)
                    for _ in range(2)]
    async with in_memory(agent.key) as client:
        updated = structured(await client.call_tool("update_experiment", {"experiment_id": str(mine.pk),
                                                                          "budget_tokens": None}))
    await rest_experiment(agent, theirs.pk, {"budget_tokens": None})
    assert updated["budget_tokens"] is None and float(updated["budget_usd"]) == 2.5
    seen, by_rest = await rest_experiment(agent, mine.pk), await rest_experiment(agent, theirs.pk)
    assert seen["budget_tokens"] is None and float(seen["budget_usd"]) == 2.5
    assert {f: seen[f] for f in SAME_EITHER_WAY} == {f: by_rest[f] for f in SAME_EITHER_WAY}


async def test_a_budget_can_be_set_and_then_removed_again(agent, make_experiment):
    experiment = await sync_to_async(make_experiment)()
    async with in_memory(agent.key) as client:
        set_ = structured(await client.call_tool("update_experiment", {"experiment_id": str(experiment.pk),
                                                                       "budget_usd": 1.25, "budget_tokens": 900}))
        cleared = structured(await client.call_tool("update_experiment", {"experiment_id": str(experiment.pk),
                                                                          "budget_usd": None}))
    assert (set_["budget_tokens"], float(set_["budget_usd"])) == (900, 1.25)
    assert (cleared["budget_tokens"], cleared["budget_usd"]) == (900, None)
    assert (await rest_experiment(agent, experiment.pk))["budget_usd"] is None


async def test_fields_left_out_keep_their_values(agent, make_experiment):
    experiment = await sync_to_async(make_experiment)(budget_tokens=5000)
    before = await rest_experiment(agent, experiment.pk)
    async with in_memory(agent.key) as client:
        structured(await client.call_tool("update_experiment", {"experiment_id": str(experiment.pk),
                                                                "description": "now described"}))
    after = await rest_experiment(agent, experiment.pk)
    assert after["description"] == "now described"
    assert {f: after[f] for f in SAME_EITHER_WAY if f != "description"} == {
        f: before[f] for f in SAME_EITHER_WAY if f != "description"}


@pytest.mark.parametrize("field", ["sample_data", "pipeline_stages", "name", "repeats", "scoring_config"])
async def test_null_for_a_field_that_cannot_be_empty_is_refused_naming_it_and_nothing_changes(
        agent, make_experiment, field):
    experiment = await sync_to_async(make_experiment)()
    before = await rest_experiment(agent, experiment.pk)
    async with in_memory(agent.key) as client:
        result = await client.call_tool("update_experiment", {"experiment_id": str(experiment.pk), field: None})
    assert result.is_error and field in text_of(result)
    assert await rest_experiment(agent, experiment.pk) == before

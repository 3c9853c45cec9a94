"""Who may call which tool, through the SDK's own client on the in-process server (the stdio principal)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.accounts.services import api_key_create
from apps.experiments.models import Experiment
from apps.mcp.tests.helpers import in_memory, structured, text_of, valid_arguments
from apps.projects.models import Project
from apps.runs.models import Run, Sweep
from conftest import make_user

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def counts() -> tuple[int, int, int, int]:
    return Project.objects.count(), Experiment.objects.count(), Sweep.objects.count(), Run.objects.count()


@sync_to_async
def user_with_key(name: str):
    user = make_user(name)
    key, raw = api_key_create(user=user, name="agent")
    return user, key, raw


@sync_to_async
def someone_elses_experiment() -> Experiment:
    stranger = make_user("stranger")
    project = Project.objects.create(owner=stranger, name="Theirs")
    return Experiment.objects.create(project=project, name="Their experiment",
                                     pipeline_stages=[{"name": "a", "model": "m", "prompt_template": "x"}])


async def test_every_tool_has_a_strict_input_schema_and_an_output_schema():
    # Their hints are a table in test_tool_list.
    _, _, raw = await user_with_key("agent")
    async with in_memory(raw) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) >= 25
    for tool in tools:
        assert tool.input_schema["additionalProperties"] is False, tool.name
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name


async def test_a_misspelled_argument_is_a_clear_error_and_creates_nothing():
    _, _, raw = await user_with_key("agent")
    before = await sync_to_async(counts)()
    async with in_memory(raw) as client:
        result = await client.call_tool("create_project", {"name": "P", "descripton": "typo"})
    assert result.is_error
    assert "descripton" in text_of(result) and "Extra inputs are not permitted" in text_of(result)
    assert await sync_to_async(counts)() == before


async def test_a_service_refusal_names_the_field_that_is_wrong():
    _, _, raw = await user_with_key("agent")
    async with in_memory(raw) as client:
        project = structured(await client.call_tool("create_project", {"name": "P"}))
        result = await client.call_tool("create_experiment", {
            "project_id": project["id"], "name": "E", "sample_data": [{"id": "1", "input": "hi"}],
            "pipeline_stages": [{"name": "a", "model": "m", "prompt_template": "{{ nope }}"}]})
    assert result.is_error
    assert "pipeline_stages.0" in text_of(result)
    assert await sync_to_async(Experiment.objects.count)() == 0


async def test_every_tool_refuses_a_revoked_key_and_changes_nothing():
    _, key, raw = await user_with_key("agent")
    await sync_to_async(key.revoke)()
    before = await sync_to_async(counts)()
    async with in_memory(raw) as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            result = await client.call_tool(tool.name, valid_arguments(tool))
            assert result.is_error and "Authentication required" in text_of(result), (tool.name, text_of(result))
    assert await sync_to_async(counts)() == before


async def test_every_tool_refuses_a_caller_without_a_key_as_it_would_a_guest():
    before = await sync_to_async(counts)()
    async with in_memory("") as client:
        for tool in (await client.list_tools()).tools:
            result = await client.call_tool(tool.name, valid_arguments(tool))
            assert result.is_error and "Authentication required" in text_of(result), tool.name
    assert await sync_to_async(counts)() == before


async def test_another_users_experiment_is_not_found_through_any_tool_and_stays_unchanged():
    theirs = await someone_elses_experiment()
    _, _, raw = await user_with_key("agent")
    calls = [
        ("get_experiment_status", {}), ("get_leaderboard", {}), ("get_timeline", {}),
        ("update_experiment", {"name": "Mine now"}), ("estimate_sweep", {}), ("run_sweep", {}),
        ("pause_sweep", {}), ("resume_sweep", {}), ("stop_sweep", {}), ("export_best_config", {}),
        ("redirect_sweep", {"parameter_space": []}), ("request_human_review", {"reason": "look"}),
        ("run_single", {"point": {}}),
    ]
    async with in_memory(raw) as client:
        for name, extra in calls:
            result = await client.call_tool(name, {"experiment_id": str(theirs.pk), **extra})
            assert result.is_error and "not found" in text_of(result), (name, text_of(result))
        listed = structured(await client.call_tool("list_experiments", {}))
    assert listed["count"] == 0
    await sync_to_async(theirs.refresh_from_db)()
    assert theirs.name == "Their experiment"
    assert await sync_to_async(Sweep.objects.count)() == 0 and await sync_to_async(Run.objects.count)() == 0


async def test_request_human_review_puts_a_human_needed_event_with_the_reason_on_the_timeline():
    _, _, raw = await user_with_key("agent")
    async with in_memory(raw) as client:
        project = structured(await client.call_tool("create_project", {"name": "P"}))
        experiment = await sync_to_async(Experiment.objects.create)(
            project_id=project["id"], name="E", pipeline_stages=[{"name": "a", "model": "m", "prompt_template": "x"}])
        event = structured(await client.call_tool("request_human_review", {
            "experiment_id": str(experiment.pk), "reason": "Two prompts tie; which tone do you prefer?"}))
        timeline = structured(await client.call_tool("get_timeline", {"experiment_id": str(experiment.pk),
                                                                      "kinds": ["human_needed"]}))
    assert event["kind"] == "human_needed"
    assert [e["payload"]["reason"] for e in timeline["events"]] == ["Two prompts tie; which tone do you prefer?"]

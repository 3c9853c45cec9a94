"""What `tools/list` shows an agent: every tool issue 10 names, each with hints that tell the truth."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.accounts.services import api_key_create
from apps.mcp.tests.helpers import in_memory
from conftest import make_user

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SPEC_TOOLS = {"create_project", "create_experiment", "configure_endpoint", "run_single", "run_sweep",
              "get_leaderboard", "get_run_detail", "export_best_config", "pause_sweep", "resume_sweep",
              "add_human_score", "get_experiment_status", "list_models"}
AGENT_TOOLS = {"list_projects", "list_experiments", "update_experiment", "estimate_sweep", "stop_sweep",
               "redirect_sweep", "fork_run", "approve_run", "reject_run", "compare_runs", "get_timeline",
               "request_human_review", "approve_sweep"}

R, D, I, O = "read-only", "destructive", "idempotent", "open-world"  # noqa: E741
# Why each row: reads change nothing; destructive = overwrites or discards something stored; idempotent = a
# repeat changes nothing more (a repeated steer is refused); open-world = calls the user's LLM endpoints.
HINTS = {
    "list_projects": {R, I},
    "create_project": set(),
    "list_experiments": {R, I},
    "create_experiment": set(),
    "update_experiment": {D, I},  # replaces stored samples, stages or scorers
    "get_experiment_status": {R, I},
    "configure_endpoint": {D},  # a new endpoint each call without endpoint_id; overwrites URL/key with one
    "list_models": {R, I, O},
    "estimate_sweep": {R, I},
    "run_sweep": {O},
    "run_single": {O},
    "pause_sweep": {I},
    "resume_sweep": {I},
    "stop_sweep": {D, I},  # cancels the pending runs for good
    "redirect_sweep": {D},  # drops the unstarted runs; a repeat replans them as new rows
    "get_leaderboard": {R, I},
    "get_run_detail": {R, I},
    "compare_runs": {R, I},
    "approve_sweep": {I},  # a repeat is refused: the sweep no longer waits for a person
    "approve_run": set(),  # each call adds a timeline event
    "reject_run": set(),
    "fork_run": set(),
    "add_human_score": set(),  # each call adds a rating
    "export_best_config": set(),  # each call adds an export-history row
    "get_timeline": {R, I},
    "request_human_review": set(),
    "list_deployments": {R, I},
    "create_deployment": set(),
    "create_prompt_version": {D, I},  # identical content returns the same version; a new one prunes the oldest
    "list_prompt_versions": {R, I},
    "activate_prompt_version": {I},
    "promote_run": {D},  # prunes like create_prompt_version; with start_ab_test a repeat is refused
    "create_ab_test": set(),
    "start_ab_test": {I},  # a repeat is refused: the test already runs
    "pause_ab_test": {I},
    "complete_ab_test": {D, I},  # ends the test for good (and may switch the active version)
    "delete_ab_test": {D, I},  # removes the test and its variants; a repeat finds nothing more to delete
    "ab_test_metrics": {R, I},
    "model_performance": {R, I},
}


@sync_to_async
def a_key() -> str:
    return api_key_create(user=make_user("agent"), name="agent")[1]


async def listed_tools() -> dict:
    async with in_memory(await a_key()) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


async def test_the_server_lists_every_tool_the_issue_names():
    assert SPEC_TOOLS | AGENT_TOOLS <= set(await listed_tools())


async def test_each_tools_hints_are_the_ones_its_effects_justify():
    tools = await listed_tools()
    assert set(tools) == set(HINTS), "a new tool needs its row in HINTS"
    for name, tool in tools.items():
        hints = tool.annotations
        shown = {flag for flag, on in ((R, hints.read_only_hint), (D, hints.destructive_hint),
                                       (I, hints.idempotent_hint), (O, hints.open_world_hint)) if on}
        assert shown == HINTS[name], name


async def test_run_single_takes_wait_and_a_strict_schema_like_run_sweep():
    tools = await listed_tools()
    for name in ("run_single", "run_sweep"):
        schema = tools[name].input_schema
        assert schema["additionalProperties"] is False
        assert schema["properties"]["wait"]["type"] == "boolean"
        assert tools[name].output_schema["type"] == "object"
    assert {"point", "pipeline_stages", "items", "repeats"} <= set(tools["run_single"].input_schema["properties"])

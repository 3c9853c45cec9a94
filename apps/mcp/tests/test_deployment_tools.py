"""Deployment, prompt version and A/B test tools do what the REST API does, for the same user's key."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.deployments.models import AbTest, Deployment, PromptVersion
from apps.deployments.tests.builders import make_deployment, make_run, make_version
from apps.mcp.tests.helpers import in_memory, structured, text_of
from conftest import make_user

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
STAGES = [{"name": "answer", "model": "fake-chat-large", "system_prompt": "Answer in one sentence.",
           "prompt_template": "{{ input }}", "params": {"temperature": 0.3}}]


@sync_to_async
def rest(agent, method: str, path: str, body: dict | None = None) -> dict:
    response = getattr(agent.rest, method)(f"/api/v1{path}", body, format="json")
    assert response.status_code < 300, (path, response.status_code, response.content)
    return response.json()


async def test_versions_made_over_mcp_deduplicate_activate_and_show_in_rest(agent, endpoint):
    async with in_memory(agent.key) as client:
        deployment = structured(await client.call_tool("create_deployment", {
            "name": "support-bot", "endpoint_id": str(endpoint.pk), "model": "fake-chat"}))
        args = {"deployment_id": deployment["id"], "system_prompt": "You are terse."}
        first = structured(await client.call_tool("create_prompt_version", args))
        again = structured(await client.call_tool("create_prompt_version", args))
        second = structured(await client.call_tool("create_prompt_version", {**args, "system_prompt": "Be kind."}))
        activated = structured(await client.call_tool("activate_prompt_version", {"version_id": second["id"]}))
        listed = structured(await client.call_tool("list_prompt_versions", {"deployment_id": deployment["id"]}))
        deployments = structured(await client.call_tool("list_deployments", {}))

    assert (first["created"], again["created"], again["id"]) == (True, False, first["id"])
    assert activated["is_active"] is True
    assert [(v["number"], v["is_active"]) for v in listed["versions"]] == [(2, True), (1, False)]
    assert deployments["deployments"][0]["active_version_id"] == second["id"]
    by_rest = await rest(agent, "get", f"/deployments/{deployment['id']}")
    assert by_rest["active_version"] == {"id": second["id"], "number": 2}


async def test_a_promoted_run_starts_an_ab_test_whose_metrics_and_completion_match_rest(agent, endpoint):
    deployment = await sync_to_async(make_deployment)(agent.user, endpoint=endpoint)
    control = await sync_to_async(make_version)(deployment, "You are terse.")
    run = await sync_to_async(make_run)(agent.user, stages=STAGES, endpoint=endpoint)

    async with in_memory(agent.key) as client:
        promoted = structured(await client.call_tool("promote_run", {
            "run_id": str(run.pk), "deployment_id": str(deployment.pk), "start_ab_test": True, "split": [70, 30]}))
        test_id = promoted["ab_test"]["id"]
        metrics = structured(await client.call_tool("ab_test_metrics", {"ab_test_id": test_id}))
        paused = structured(await client.call_tool("pause_ab_test", {"ab_test_id": test_id}))
        resumed = structured(await client.call_tool("start_ab_test", {"ab_test_id": test_id}))
        completed = structured(await client.call_tool("complete_ab_test", {"ab_test_id": test_id}))
        refused = await client.call_tool("start_ab_test", {"ab_test_id": test_id})

    assert promoted["version"]["source_run_id"] == str(run.pk)
    assert [(v["version_id"], v["weight"]) for v in promoted["ab_test"]["variants"]] == [
        (str(control.pk), 70), (promoted["version"]["id"], 30)]
    by_rest = await rest(agent, "get", f"/prompts/experiments/{test_id}/metrics")
    assert [{k: row[k] for k in by_rest[0]} for row in metrics["variants"]] == by_rest
    assert (paused["status"], resumed["status"], completed["status"]) == ("paused", "running", "completed")
    assert completed["decision"]["activated"] is False and completed["decision"]["reason"]
    assert (await rest(agent, "get", f"/prompts/experiments/{test_id}"))["decision"] == completed["decision"]
    assert refused.is_error and "completed" in text_of(refused)


async def test_create_ab_test_names_the_field_that_is_wrong_and_creates_nothing(agent, endpoint):
    deployment = await sync_to_async(make_deployment)(agent.user, endpoint=endpoint)
    version = await sync_to_async(make_version)(deployment, "You are terse.")
    async with in_memory(agent.key) as client:
        one = await client.call_tool("create_ab_test", {
            "deployment_id": str(deployment.pk), "name": "Solo", "variants": [{"version_id": str(version.pk)}]})
        typo = await client.call_tool("create_ab_test", {
            "deployment_id": str(deployment.pk), "name": "Typo", "variants": [{"versionid": str(version.pk)}]})
    assert one.is_error and "variants" in text_of(one)
    assert typo.is_error and "versionid" in text_of(typo)
    assert await sync_to_async(AbTest.objects.count)() == 0


@sync_to_async
def someone_elses_deployment():
    stranger = make_user("stranger")
    deployment = make_deployment(stranger)
    first, second = make_version(deployment, "One."), make_version(deployment, "Two.")
    ab_test = AbTest.objects.create(deployment=deployment, name="Theirs")
    run = make_run(stranger, stages=STAGES)
    return deployment, first, second, ab_test, run


async def test_another_users_deployment_versions_and_tests_are_not_found_and_stay_unchanged(agent, endpoint):
    deployment, first, second, ab_test, run = await someone_elses_deployment()
    mine = await sync_to_async(make_deployment)(agent.user, name="mine", endpoint=endpoint)
    calls = [
        ("create_prompt_version", {"deployment_id": str(deployment.pk), "system_prompt": "Mine now"}),
        ("list_prompt_versions", {"deployment_id": str(deployment.pk)}),
        ("activate_prompt_version", {"version_id": str(second.pk)}),
        ("promote_run", {"run_id": str(run.pk), "deployment_id": str(mine.pk)}),
        ("create_ab_test", {"deployment_id": str(deployment.pk), "name": "x", "variants": []}),
        ("start_ab_test", {"ab_test_id": str(ab_test.pk)}), ("pause_ab_test", {"ab_test_id": str(ab_test.pk)}),
        ("complete_ab_test", {"ab_test_id": str(ab_test.pk)}), ("ab_test_metrics", {"ab_test_id": str(ab_test.pk)}),
    ]
    async with in_memory(agent.key) as client:
        for name, args in calls:
            result = await client.call_tool(name, args)
            assert result.is_error and "not found" in text_of(result), (name, text_of(result))
        listed = structured(await client.call_tool("list_deployments", {}))
    assert [d["name"] for d in listed["deployments"]] == ["mine"]
    assert await sync_to_async(PromptVersion.objects.filter(deployment=deployment).count)() == 2
    assert (await sync_to_async(PromptVersion.objects.get)(deployment=deployment, is_active=True)).pk == first.pk
    assert (await sync_to_async(AbTest.objects.get)(pk=ab_test.pk)).status == "draft"
    assert await sync_to_async(Deployment.objects.count)() == 2

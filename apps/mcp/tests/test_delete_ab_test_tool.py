"""delete_ab_test does what DELETE /api/v1/prompts/experiments/{id} does, for the same user's key."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.deployments.models import AbTest, AbVariant, PromptVersion
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.tests.builders import make_deployment, make_version
from apps.mcp.tests.helpers import in_memory, structured, text_of
from conftest import make_user

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def a_test(owner, *, running: bool = False) -> AbTest:
    deployment = make_deployment(owner)
    ab_test = ab_test_create(deployment=deployment, name="Tone", variants=[
        {"version": make_version(deployment, "One."), "weight": 1},
        {"version": make_version(deployment, "Two."), "weight": 1}])
    return ab_test_start(ab_test=ab_test) if running else ab_test


@sync_to_async
def rest_status(agent, ab_test_id: str) -> int:
    return agent.rest.get(f"/api/v1/prompts/experiments/{ab_test_id}").status_code


async def test_a_draft_test_is_deleted_with_its_variants_and_its_versions_stay(agent):
    ab_test = await a_test(agent.user)
    async with in_memory(agent.key) as client:
        deleted = structured(await client.call_tool("delete_ab_test", {"ab_test_id": str(ab_test.pk)}))
        again = await client.call_tool("delete_ab_test", {"ab_test_id": str(ab_test.pk)})

    assert deleted == {"id": str(ab_test.pk), "name": "Tone", "deleted": True}
    assert await rest_status(agent, str(ab_test.pk)) == 404
    assert again.is_error and "not found" in text_of(again)
    assert not await sync_to_async(AbVariant.objects.exists)()
    assert await sync_to_async(PromptVersion.objects.count)() == 2


async def test_a_running_test_is_refused_with_the_reason_and_keeps_running(agent):
    ab_test = await a_test(agent.user, running=True)
    async with in_memory(agent.key) as client:
        refused = await client.call_tool("delete_ab_test", {"ab_test_id": str(ab_test.pk)})

    assert refused.is_error and "pause or complete it" in text_of(refused)
    assert (await sync_to_async(AbTest.objects.get)(pk=ab_test.pk)).status == AbTest.Status.RUNNING


async def test_another_users_test_is_not_found_and_stays(agent):
    theirs = await a_test(await sync_to_async(make_user)("stranger"))
    async with in_memory(agent.key) as client:
        result = await client.call_tool("delete_ab_test", {"ab_test_id": str(theirs.pk)})

    assert result.is_error and "not found" in text_of(result)
    assert await sync_to_async(AbTest.objects.filter(pk=theirs.pk).exists)()

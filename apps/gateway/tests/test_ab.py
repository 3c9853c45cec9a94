from __future__ import annotations

import asyncio

import httpx

from apps.deployments.models import AbTest, GatewayRequest, PromptVersion
from apps.deployments.services.abtests import ab_test_complete, ab_test_create, ab_test_start
from apps.deployments.services.versions import version_create
from apps.gateway.tests.builders import chat, deployment_for, run


def running_test(deployment, prompts: list[str], weights: list[int], **options) -> AbTest:
    versions = [version_create(deployment=deployment, system_prompt=p)[0] for p in prompts]
    variants = [{"name": name, "version": v, "weight": w} for name, v, w in zip(["control", "challenger"], versions,
                                                                                weights, strict=True)]
    return ab_test_start(ab_test=ab_test_create(deployment=deployment, name="test", variants=variants, **options))


def send_sessions(gateway, key: str, sessions: list[str]) -> list[httpx.Response]:
    async def calls(client: httpx.AsyncClient) -> list[httpx.Response]:
        limit = asyncio.Semaphore(64)
        headers = {"Authorization": f"Bearer {key}"}

        async def one(session: str) -> httpx.Response:
            async with limit:
                return await client.post("/gateway/v1/chat/completions", json=chat(f"Question of {session}"),
                                         headers={**headers, "X-Session-Id": session})

        return await asyncio.gather(*(one(s) for s in sessions))

    return run(gateway, calls)


def test_a_70_30_split_over_2000_sessions_lands_within_3_points_and_each_session_sticks(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    running_test(deployment, ["Be concise.", "Be thorough."], [70, 30])
    sessions = [f"user-{i}" for i in range(2000)]

    first = send_sessions(gateway, key, sessions)
    again = send_sessions(gateway, key, sessions[:300])

    arms = [r.headers["x-promptlooper-variant"] for r in first]
    assert abs(arms.count("control") / 2000 - 0.70) <= 0.03
    assert [r.headers["x-promptlooper-variant"] for r in again] == arms[:300]
    assert GatewayRequest.objects.filter(variant__name="control").count() == arms.count("control") + arms[:300].count(
        "control")


# The better variant answers more often, so each of its requests costs ~15% more (output tokens) and, on a loaded
# machine, its latency differs by noise: guardrails aside (test_abtests.py tests them), these decide on success.
NO_GUARDRAILS = {"max_latency_increase_pct": None, "max_cost_increase_pct": None}


def test_a_variant_that_is_worse_on_the_success_criterion_loses_and_the_winner_is_activated(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    test = running_test(deployment, ["You are a helpful assistant.", "You are a concise assistant."], [50, 50],
                        min_samples=100, guardrails=NO_GUARDRAILS)
    assert PromptVersion.objects.get(deployment=deployment, is_active=True).system_prompt.startswith("You are a help")

    send_sessions(gateway, key, [f"user-{i}" for i in range(600)])
    completed = ab_test_complete(ab_test=test)

    assert completed.winner is not None and completed.winner.name == "challenger", completed.decision
    active = PromptVersion.objects.get(deployment=deployment, is_active=True)
    assert active.system_prompt == "You are a concise assistant."
    assert GatewayRequest.objects.filter(ab_test=test).count() == 600


def test_an_a_a_test_completes_without_activating_anything(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    test = running_test(deployment, ["You are a helpful assistant.", "You are a helpful assistant!"], [50, 50],
                        min_samples=100)
    control = PromptVersion.objects.get(deployment=deployment, is_active=True)

    send_sessions(gateway, key, [f"user-{i}" for i in range(600)])
    completed = ab_test_complete(ab_test=test)

    assert completed.winner is None and completed.decision["reason"]
    assert PromptVersion.objects.get(deployment=deployment, is_active=True) == control


def test_an_auto_completing_test_completes_once_the_metrics_show_a_winner(gateway, owner, fake_llm, monkeypatch):
    monkeypatch.setattr("apps.deployments.services.abtests.AUTO_COMPLETE_EVERY_S", 0)
    deployment, key = deployment_for(owner, fake_llm)
    test = running_test(deployment, ["You are a helpful assistant.", "You are a concise assistant."], [50, 50],
                        min_samples=100, auto_complete=True, guardrails=NO_GUARDRAILS)

    send_sessions(gateway, key, [f"user-{i}" for i in range(600)])

    test.refresh_from_db()
    assert test.status == AbTest.Status.COMPLETED and test.winner is not None, test.decision
    assert test.winner.name == "challenger"
    after = send_sessions(gateway, key, ["user-1"])[0]
    assert "x-promptlooper-variant" not in after.headers

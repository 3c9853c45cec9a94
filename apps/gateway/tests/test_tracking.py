from __future__ import annotations

from apps.deployments.models import PromptVersion
from apps.deployments.services.versions import version_create
from apps.gateway.tests.builders import chat, deployment_for, post


def test_a_new_system_prompt_creates_and_activates_a_version(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.", auto_track=True)

    response = post(gateway, key, chat(system="Be friendly.", user="s"))

    assert response.headers["x-promptlooper-version"] == "2"
    tracked = PromptVersion.objects.get(deployment=deployment, is_active=True)
    assert (tracked.number, tracked.system_prompt, tracked.created_by) == (2, "Be friendly.", "gateway")
    assert fake_llm.stats.last_body["messages"][0]["content"] == "Be friendly."


def test_identical_prompts_through_the_gateway_make_one_version(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.", auto_track=True)

    first = post(gateway, key, chat(system="Be friendly.", user="a"))
    second = post(gateway, key, chat(system="Be friendly.", user="b"))
    again = post(gateway, key, chat(system="Be concise.", user="c"))

    assert first.headers["x-promptlooper-version"] == second.headers["x-promptlooper-version"] == "2"
    assert again.headers["x-promptlooper-version"] == "2"  # a known prompt is not re-tracked: v2 stays active
    assert deployment.versions.count() == 2


def test_without_auto_tracking_a_new_prompt_changes_nothing(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    response = post(gateway, key, chat(system="Be friendly.", user="s"))

    assert response.headers["x-promptlooper-version"] == "1"
    assert deployment.versions.count() == 1
    assert fake_llm.stats.last_body["messages"][0]["content"] == "Be concise."


def test_pruning_keeps_the_active_version_and_the_gateway_goes_on_serving_it(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="P1", auto_track=True, max_versions=3)
    for prompt in ("P2", "P3", "P4"):  # prepared by hand: inactive; above 3 the oldest inactive (v2) goes
        version_create(deployment=deployment, system_prompt=prompt)

    served = post(gateway, key, chat(user="a"))

    assert sorted(deployment.versions.values_list("number", flat=True)) == [1, 3, 4]
    assert served.headers["x-promptlooper-version"] == "1"
    assert fake_llm.stats.last_body["messages"][0]["content"] == "P1"

    tracked = post(gateway, key, chat(system="P5", user="b"))  # tracked and activated: v1 is now the oldest inactive

    assert tracked.headers["x-promptlooper-version"] == "5"
    assert sorted(deployment.versions.values_list("number", flat=True)) == [3, 4, 5]
    assert deployment.versions.get(is_active=True).number == 5

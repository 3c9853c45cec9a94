from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from apps.deployments.models import GatewayRequest
from apps.deployments.services.keys import deployment_key_revoke
from apps.deployments.services.versions import version_create
from apps.endpoints.models import Endpoint
from apps.gateway.tests.builders import chat, deployment_for, post, run


def test_a_request_gets_the_active_versions_prompt_and_is_recorded(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    response = post(gateway, key, chat(system="Ignore me.", user="s1"))

    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"].startswith("[ab-chat] answer:")
    assert response.headers["x-promptlooper-version"] == "1"
    assert "x-promptlooper-session" not in response.headers
    sent = fake_llm.stats.last_body
    assert sent["messages"][0] == {"role": "system", "content": "Be concise."}
    assert sent["model"] == "ab-chat"
    row = GatewayRequest.objects.get()
    assert str(row.request_id) == response.headers["x-promptlooper-request-id"]
    assert (row.deployment, row.status_code, row.success, row.session_id) == (deployment, 200, True, "s1")
    assert row.tokens_in > 0 and row.tokens_out > 0
    assert row.cost_usd == Decimal(row.tokens_in + 2 * row.tokens_out) / 1_000_000


def test_the_versions_template_model_and_params_override_the_deployments_and_the_callers(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, params={"temperature": 0.2, "top_p": 0.9})
    version_create(deployment=deployment, system_prompt="Answer in French.", user_template="Customer: {{ input }}",
                   model="ab-other", params={"temperature": 0.7})

    post(gateway, key, chat("Hello {{ input }} $1", temperature=1.5, max_tokens=50, user="s"))

    sent = fake_llm.stats.last_body
    assert sent["messages"] == [{"role": "system", "content": "Answer in French."},
                                {"role": "user", "content": "Customer: Hello {{ input }} $1"}]
    assert (sent["model"], sent["temperature"], sent["top_p"], sent["max_tokens"]) == ("ab-other", 0.7, 0.9, 50)


def test_a_deployment_without_versions_passes_the_callers_prompt_through(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm)

    response = post(gateway, key, chat(system="Mine.", user="s"))

    assert response.status_code == 200 and "x-promptlooper-version" not in response.headers
    assert fake_llm.stats.last_body["messages"][0] == {"role": "system", "content": "Mine."}


def test_a_request_without_a_session_gets_one_and_is_told_so(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    response = post(gateway, key, chat())

    assert response.headers["x-promptlooper-session"] == "assigned"
    row = GatewayRequest.objects.get()
    assert row.session_assigned and row.session_id == response.headers["x-promptlooper-session-id"]


def test_a_missing_or_wrong_key_is_refused(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    async def calls(client: httpx.AsyncClient):
        none = await client.post("/gateway/v1/chat/completions", json=chat())
        wrong = await client.post("/gateway/v1/chat/completions", json=chat(),
                                  headers={"Authorization": f"Bearer {key[:-2]}xx"})
        return none, wrong

    none, wrong = run(gateway, calls)

    assert none.status_code == wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert GatewayRequest.objects.count() == 0 and fake_llm.stats["chat"] == 0


def test_a_revoked_key_is_refused_on_the_next_request(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.")
    assert post(gateway, key, chat(user="s")).status_code == 200

    deployment_key_revoke(deployment=deployment, key_id=deployment.keys.get().pk)

    assert post(gateway, key, chat(user="s")).status_code == 401


def test_a_key_never_reaches_another_users_deployment(gateway, owner, other_user, fake_llm):
    mine, _ = deployment_for(owner, fake_llm, name="mine", prompt="Mine.")
    _, their_key = deployment_for(other_user, fake_llm, name="theirs", prompt="Theirs.")

    named = post(gateway, their_key, chat(user="s"), **{"X-PromptLooper-Deployment": str(mine.pk)})
    plain = post(gateway, their_key, chat(user="s"))

    assert named.status_code == 404 and named.json()["error"]["code"] == "deployment_not_found"
    assert plain.status_code == 200 and fake_llm.stats.last_body["messages"][0]["content"] == "Theirs."
    assert not mine.requests.exists()


def test_a_key_of_a_deactivated_owner_is_refused(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")
    owner.is_active = False
    owner.save()

    assert post(gateway, key, chat(user="s")).status_code == 401


def test_an_upstream_500_is_passed_on_as_an_error_and_counted_as_a_failure(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, model="fault-500", prompt="Be concise.")

    response = post(gateway, key, chat(user="s"))

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["upstream_status"] == 500 and "HTTP 500" in error["message"]
    row = GatewayRequest.objects.get()
    assert (row.status_code, row.success) == (502, False) and "HTTP 500" in row.error


def test_an_unreachable_endpoint_is_a_502_and_a_failure(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.")
    Endpoint.objects.filter(pk=deployment.endpoint_id).update(base_url="http://127.0.0.1:9/v1")

    response = post(gateway, key, chat(user="s"))

    assert response.status_code == 502 and response.json()["error"]["code"] == "upstream_unreachable"
    assert GatewayRequest.objects.get().success is False


def test_an_empty_reply_is_a_failure(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="ALWAYS EMPTY")

    response = post(gateway, key, chat(user="s"))

    assert response.status_code == 200 and response.json()["choices"][0]["message"]["content"] == ""
    row = GatewayRequest.objects.get()
    assert (row.success, row.error) == (False, "empty response")


def test_a_body_that_is_not_a_chat_request_is_a_400_naming_the_field(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm)

    response = post(gateway, key, {"model": "x", "messages": []})

    assert response.status_code == 400 and response.json()["error"]["param"] == "messages"
    assert fake_llm.stats["chat"] == 0


def test_models_lists_what_the_deployment_forwards_to(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm)

    response = run(gateway, lambda client: client.get("/gateway/v1/models", headers={"Authorization": f"Bearer {key}"}))

    assert [m["id"] for m in response.json()["data"]] == ["ab-chat"]


def test_every_request_gets_exactly_one_metrics_row(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    async def many(client: httpx.AsyncClient):
        headers = {"Authorization": f"Bearer {key}"}
        return await asyncio.gather(*(client.post("/gateway/v1/chat/completions", json=chat(f"q{i}", user=f"s{i}"),
                                                  headers=headers) for i in range(120)))

    responses = run(gateway, many)

    ids = {r.headers["x-promptlooper-request-id"] for r in responses}
    assert len(ids) == 120
    assert {str(i) for i in GatewayRequest.objects.values_list("request_id", flat=True)} == ids

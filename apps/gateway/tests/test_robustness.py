"""What a hostile caller or a misbehaving upstream must not cause: a 500, or metrics that stop being written."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

import apps.gateway.app as gateway_app
from apps.deployments.models import GatewayRequest
from apps.deployments.services.checks import MAX_PROMPT_CHARS
from apps.deployments.services.requests import gateway_requests_record
from apps.endpoints.models import Endpoint
from apps.gateway.app import CHAT_PATH
from apps.gateway.tests.builders import chat, deployment_for, post, run
from apps.webhooks.tests.receiver import Receiver, Reply

MAX_TOKENS = 2**31 - 1


@pytest.fixture
def upstream() -> Iterator[Receiver]:
    """An OpenAI-compatible upstream on 127.0.0.1 that answers exactly what a test scripts."""
    with Receiver() as receiver:
        yield receiver


def on_upstream(deployment, upstream: Receiver, *, prices: dict | None = None) -> None:
    Endpoint.objects.filter(pk=deployment.endpoint_id).update(
        base_url=f"http://127.0.0.1:{upstream.port}/v1", **({"model_prices": prices} if prices else {}))


def sse_reply(*events: str) -> Reply:
    return Reply(headers={"content-type": "text/event-stream"}, body="".join(events).encode())


def post_raw(gateway, key: str, content: bytes) -> httpx.Response:
    return run(gateway, lambda client: client.post(CHAT_PATH, content=content, headers={
        "Authorization": f"Bearer {key}", "content-type": "application/json"}))


def test_a_session_id_with_a_lone_surrogate_is_a_400_naming_user(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    response = post_raw(gateway, key, b'{"messages": [{"role": "user", "content": "hi"}], "user": "\\ud800"}')

    assert response.status_code == 400 and response.json()["error"]["param"] == "user"
    assert fake_llm.stats["chat"] == 0 and not GatewayRequest.objects.exists()


def test_deeply_nested_json_is_a_400_not_a_server_error(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")

    abyss = post_raw(gateway, key, b"[" * 200_000)
    deep_tools = post(gateway, key, chat(user="s", tools=json.loads("[" * 100 + "]" * 100)))

    assert abyss.status_code == deep_tools.status_code == 400
    assert "levels deep" in deep_tools.json()["error"]["message"]
    assert fake_llm.stats["chat"] == 0


def test_usage_that_does_not_fit_is_clamped_and_the_request_is_still_recorded(gateway, owner, fake_llm, upstream):
    deployment, key = deployment_for(owner, fake_llm)
    on_upstream(deployment, upstream, prices={"ab-chat": {"input": 1.0, "output": 1e9}})
    reply = {"id": "x", "object": "chat.completion", "model": "ab-chat",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": -5, "completion_tokens": 10**30}}
    upstream.replies.append(Reply(headers={"content-type": "application/json"}, body=json.dumps(reply).encode()))

    response = post(gateway, key, chat(user="s"))

    assert response.status_code == 200
    row = GatewayRequest.objects.get()
    assert (row.tokens_in, row.tokens_out, row.success) == (0, MAX_TOKENS, True)
    assert row.cost_usd == Decimal("999999.99999999")


def test_a_non_numeric_usage_figure_mid_stream_counts_as_zero_and_the_stream_completes(gateway, owner, fake_llm,
                                                                                      upstream):
    deployment, key = deployment_for(owner, fake_llm)
    on_upstream(deployment, upstream)
    upstream.replies.append(sse_reply(
        'data: {"choices": [{"index": 0, "delta": {"content": "Hello"}}]}\n\n',
        'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n',
        'data: {"choices": [], "usage": {"prompt_tokens": "lots", "completion_tokens": 7}}\n\n',
        "data: [DONE]\n\n"))

    response = post(gateway, key, chat(user="s", stream=True))

    assert response.status_code == 200 and "Hello" in response.text and "[DONE]" in response.text
    assert '"usage"' not in response.text  # the caller did not ask for the usage chunk
    row = GatewayRequest.objects.get()
    assert (row.status_code, row.success, row.error) == (200, True, "")
    assert (row.tokens_in, row.tokens_out) == (0, 7)


def test_a_stream_event_split_over_several_data_lines_is_one_event(gateway, owner, fake_llm, upstream):
    deployment, key = deployment_for(owner, fake_llm)
    on_upstream(deployment, upstream)
    upstream.replies.append(sse_reply(
        'data: {"choices": [{"index": 0,\ndata: "delta": {"content": "Hello"}}]}\n\n',
        'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],\n'
        'data: "usage": {"prompt_tokens": 3, "completion_tokens": 2}}\n\n',
        "data: [DONE]\n\n"))

    response = post(gateway, key, chat(user="s", stream=True))

    assert response.status_code == 200 and "Hello" in response.text
    row = GatewayRequest.objects.get()
    assert (row.status_code, row.success, row.tokens_in, row.tokens_out) == (200, True, 3, 2)


def test_a_caller_that_goes_away_at_the_end_of_a_stream_keeps_the_tokens_counted(gateway, owner, fake_llm):
    _, key = deployment_for(owner, fake_llm, model="plain-chat", prompt="Be concise.")
    body = json.dumps(chat(user="s", stream=True)).encode()
    scope = {"type": "http", "path": CHAT_PATH, "method": "POST",
             "headers": [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")]}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body" and not message.get("more_body"):
            raise OSError("the caller closed the connection")

    async def main():
        with pytest.raises(OSError):
            await gateway(scope, receive, send)
        await gateway.aclose()

    asyncio.run(main())

    row = GatewayRequest.objects.get()
    assert (row.status_code, row.success) == (499, False) and "went away" in row.error
    assert row.tokens_in > 0 and row.tokens_out > 0


def test_a_system_prompt_tracking_refuses_is_not_sent_to_the_writer_again(gateway, owner, fake_llm, monkeypatch):
    deployment, key = deployment_for(owner, fake_llm, prompt="Be concise.", auto_track=True)
    asked = []
    track = gateway_app.track_prompt

    def counting_track(**kwargs):
        asked.append(kwargs["prompt"][:10])
        return track(**kwargs)

    monkeypatch.setattr(gateway_app, "track_prompt", counting_track)
    too_long = "x" * (MAX_PROMPT_CHARS + 1)

    first = post(gateway, key, chat(system=too_long, user="a"))
    second = post(gateway, key, chat(system=too_long, user="b"))

    assert first.status_code == second.status_code == 200
    assert first.headers["x-promptlooper-version"] == second.headers["x-promptlooper-version"] == "1"
    assert len(asked) == 1 and deployment.versions.count() == 1


def row_for(deployment, **fields) -> dict:
    return dict(request_id=str(uuid.uuid4()), deployment_id=str(deployment.pk), version_id=None, ab_test_id=None,
                variant_id=None, session_id="s", session_assigned=False, endpoint_id=deployment.endpoint_id,
                model="ab-chat", streamed=False, status_code=200, success=True, error="", latency_ms=5,
                tokens_in=1, tokens_out=1, cost_usd=Decimal("0.000003"), created_at=timezone.now(), **fields)


def test_a_row_that_cannot_be_stored_is_dropped_and_the_rest_of_the_batch_is_written(db, owner, fake_llm):
    deployment, _ = deployment_for(owner, fake_llm)
    good = [row_for(deployment) for _ in range(5)]
    bad = row_for(deployment) | {"session_id": "\ud800", "tokens_in": -1}

    stored = gateway_requests_record(rows=[*good[:2], bad, *good[2:]])

    assert stored == 5
    assert {str(i) for i in GatewayRequest.objects.values_list("request_id", flat=True)} == {
        row["request_id"] for row in good}


def test_a_flush_retried_after_its_commit_stores_each_request_once(db, owner, fake_llm):
    deployment, _ = deployment_for(owner, fake_llm)
    rows = [row_for(deployment) for _ in range(3)]
    gateway_requests_record(rows=rows[:2])

    gateway_requests_record(rows=rows)  # the first two again: their commit's reply was lost

    assert GatewayRequest.objects.count() == 3

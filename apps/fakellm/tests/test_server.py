"""Behaviour of the fake OpenAI-compatible LLM server, exercised over HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from apps.fakellm.server import FakeLLMServer

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def client(fake_llm: FakeLLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_llm.base_url, timeout=10) as http:
        yield http


def chat_body(text: str = "Hello there", model: str = "fake-chat", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def chat(client: httpx.Client, text: str = "Hello there", **extra: Any) -> httpx.Response:
    return client.post("/chat/completions", json=chat_body(text, **extra))


def content_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def stream_events(client: httpx.Client, body: dict[str, Any]) -> list[str]:
    """Raw `data:` payloads of an SSE reply, in order."""
    with client.stream("POST", "/chat/completions", json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]


def embed(client: httpx.Client, value: Any, **extra: Any) -> list[Any]:
    response = client.post("/embeddings", json={"model": "fake-embed", "input": value, **extra})
    assert response.status_code == 200, response.text
    return [item["embedding"] for item in response.json()["data"]]


def test_the_health_endpoint_answers_ok(client: httpx.Client, fake_llm: FakeLLMServer) -> None:
    response = client.get(f"{fake_llm.root_url}/health")
    assert response.json() == {"status": "ok"}


def test_the_models_list_includes_default_fault_and_flaky_models(client: httpx.Client) -> None:
    body = client.get("/models").json()
    ids = {model["id"] for model in body["data"]}
    assert body["object"] == "list"
    assert {"fake-chat", "fake-embed", "fault-429", "fault-hang", "flaky-500-2"} <= ids
    assert all(model["object"] == "model" for model in body["data"])


def test_a_server_can_advertise_its_own_models() -> None:
    with FakeLLMServer(models=["tiny"]) as server:
        ids = [m["id"] for m in httpx.get(f"{server.base_url}/models").json()["data"]]
    assert ids[0] == "tiny" and "fake-chat" not in ids


def test_a_plain_chat_reply_echoes_the_last_user_message(client: httpx.Client) -> None:
    response = chat(client, "What is 2+2?")
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-") and body["model"] == "fake-chat"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["content"].startswith("[fake-chat] echo: What is 2+2? #")


def test_the_echo_is_cut_to_two_hundred_characters(client: httpx.Client) -> None:
    content = content_of(chat(client, "x" * 500))
    assert "x" * 200 + " #" in content and "x" * 201 not in content


def test_usage_counts_words_in_messages_and_reply(client: httpx.Client) -> None:
    body = {
        "model": "fake-chat",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "one two three"}]},
        ],
    }
    usage = client.post("/chat/completions", json=body).json()["usage"]
    assert usage["prompt_tokens"] == 5
    assert usage["completion_tokens"] == 6
    assert usage["total_tokens"] == 11


def test_the_same_request_gives_the_same_reply(client: httpx.Client) -> None:
    first = content_of(chat(client, "Same?", temperature=0.7))
    assert content_of(chat(client, "Same?", temperature=0.7)) == first


def test_a_different_temperature_gives_a_different_reply(client: httpx.Client) -> None:
    cool = content_of(chat(client, "Same?", temperature=0.2))
    assert content_of(chat(client, "Same?", temperature=0.9)) != cool


@pytest.mark.parametrize("change", [{"top_p": 0.5}, {"seed": 7}, {"model": "fake-chat-large"}])
def test_other_sampling_fields_and_the_model_change_the_reply(
    client: httpx.Client, change: dict[str, Any]
) -> None:
    assert content_of(chat(client, "Same?")) != content_of(chat(client, "Same?", **change))


def test_a_different_prompt_gives_a_different_reply(client: httpx.Client) -> None:
    assert content_of(chat(client, "first")) != content_of(chat(client, "second"))


def test_a_reply_line_scripts_the_content_exactly(client: httpx.Client) -> None:
    prompt = 'Please answer.\nREPLY: {"score": 3}\\nsecond line\nignored tail'
    assert content_of(chat(client, prompt)) == '{"score": 3}\nsecond line'


def test_only_the_last_user_message_can_script_the_reply(client: httpx.Client) -> None:
    body = {
        "model": "fake-chat",
        "messages": [
            {"role": "user", "content": "REPLY: old"},
            {"role": "assistant", "content": "old"},
            {"role": "user", "content": "new question"},
        ],
    }
    assert "echo: new question" in content_of(client.post("/chat/completions", json=body))


def test_max_tokens_truncates_words_and_reports_length(client: httpx.Client) -> None:
    response = chat(client, "REPLY: one two  three four five", max_tokens=3)
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == "one two  three"
    assert choice["finish_reason"] == "length"
    assert response.json()["usage"]["completion_tokens"] == 3


def test_a_reply_within_max_tokens_finishes_normally(client: httpx.Client) -> None:
    choice = chat(client, "REPLY: one two", max_completion_tokens=5).json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("one two", "stop")


def test_a_streamed_chat_sends_chunks_usage_and_done(client: httpx.Client) -> None:
    events = stream_events(client, chat_body("stream me please"))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_a_streamed_reply_spells_the_same_content_as_a_plain_one(client: httpx.Client) -> None:
    body = chat_body("REPLY: line one\\n  line two", temperature=0.3)
    chunks = [json.loads(e) for e in stream_events(client, body)[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert streamed == content_of(client.post("/chat/completions", json=body))
    assert len(chunks) > 3


def test_include_usage_adds_a_final_chunk_with_only_usage(client: httpx.Client) -> None:
    events = stream_events(client, chat_body("count me", stream_options={"include_usage": True}))
    last = json.loads(events[-2])
    assert last["choices"] == []
    assert last["usage"]["prompt_tokens"] == 2


def test_embeddings_are_deterministic_unit_vectors(client: httpx.Client) -> None:
    first, again = embed(client, "hello world")[0], embed(client, "hello world")[0]
    assert first == again
    assert len(first) == 64
    assert math.isclose(math.sqrt(sum(v * v for v in first)), 1.0, rel_tol=1e-9)
    assert embed(client, "goodbye")[0] != first


def test_embeddings_accept_a_list_and_report_usage(client: httpx.Client) -> None:
    response = client.post("/embeddings", json={"model": "fake-embed", "input": ["a b", "c"]})
    body = response.json()
    assert [item["index"] for item in body["data"]] == [0, 1]
    assert body["data"][0]["embedding"] == embed(client, "a b")[0]
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_embeddings_honour_dimensions_and_base64(client: httpx.Client) -> None:
    floats = embed(client, "hi", dimensions=16)[0]
    packed = base64.b64decode(embed(client, "hi", dimensions=16, encoding_format="base64")[0])
    decoded = struct.unpack("<16f", packed)
    assert len(floats) == 16
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(floats, decoded, strict=True))


def test_the_latency_header_delays_the_reply(client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.post("/chat/completions", json=chat_body(), headers={"X-Fake-Latency-Ms": "150"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.15


def test_server_wide_latency_delays_every_reply(fake_llm: FakeLLMServer, client: httpx.Client) -> None:
    fake_llm.latency_ms = 120
    started = time.monotonic()
    assert chat(client).status_code == 200
    assert time.monotonic() - started >= 0.12


@pytest.mark.parametrize(
    ("model", "status", "error_type"),
    [
        ("fault-429", 429, "requests"),
        ("fault-500", 500, "server_error"),
        ("fault-400", 400, "invalid_request_error"),
        ("fault-401", 401, "invalid_request_error"),
    ],
)
def test_a_fault_model_returns_an_openai_style_error(
    client: httpx.Client, model: str, status: int, error_type: str
) -> None:
    response = chat(client, model=model)
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    assert response.json()["error"]["message"]


def test_a_rate_limit_says_when_to_retry(client: httpx.Client) -> None:
    assert chat(client, model="fault-429").headers["Retry-After"] == "1"
    headers = {"X-Fake-Retry-After": "7"}
    custom = client.post("/chat/completions", json=chat_body(model="fault-429"), headers=headers)
    assert custom.headers["Retry-After"] == "7"


def test_faults_also_apply_to_embeddings(client: httpx.Client) -> None:
    response = client.post("/embeddings", json={"model": "fault-500", "input": "x"})
    assert response.status_code == 500


def test_a_hanging_model_times_out_while_other_requests_still_succeed(fake_llm: FakeLLMServer) -> None:
    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(base_url=fake_llm.base_url) as http:
            hung = http.post("/chat/completions", json=chat_body(model="fault-hang"), timeout=0.5)
            normal = http.post("/chat/completions", json=chat_body(), timeout=5)
            hang_result, normal_result = await asyncio.gather(hung, normal, return_exceptions=True)
            assert isinstance(hang_result, httpx.ReadTimeout)
            assert isinstance(normal_result, httpx.Response)
            return normal_result

    assert asyncio.run(scenario()).status_code == 200
    assert fake_llm.stats.faults["fault-hang"] == 1


def test_a_malformed_reply_is_not_valid_json(client: httpx.Client) -> None:
    response = chat(client, model="fault-malformed")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_a_malformed_stream_carries_a_broken_event(client: httpx.Client) -> None:
    events = stream_events(client, chat_body(model="fault-malformed"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[0])


def test_a_truncated_stream_ends_without_done(client: httpx.Client) -> None:
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        body = chat_body(model="fault-truncate", stream=True)
        with client.stream("POST", "/chat/completions", json=body) as response:
            received.extend(response.iter_lines())
    events = [line for line in received if line.startswith("data: ")]
    assert len(events) == 2
    assert "data: [DONE]" not in received


def test_a_truncated_plain_reply_raises_a_protocol_error(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        chat(client, model="fault-truncate")


@pytest.mark.parametrize("status", [429, 500])
def test_a_flaky_model_fails_n_times_then_succeeds(client: httpx.Client, status: int) -> None:
    statuses = [chat(client, "retry me", model=f"flaky-{status}-2").status_code for _ in range(4)]
    assert statuses == [status, status, 200, 200]


def test_flaky_attempts_are_counted_per_distinct_request(client: httpx.Client) -> None:
    assert chat(client, "first", model="flaky-500-1").status_code == 500
    assert chat(client, "second", model="flaky-500-1").status_code == 500
    assert chat(client, "first", model="flaky-500-1").status_code == 200


def test_reset_stats_also_resets_flaky_attempts(client: httpx.Client, fake_llm: FakeLLMServer) -> None:
    assert chat(client, "again", model="flaky-429-1").status_code == 429
    fake_llm.reset_stats()
    assert chat(client, "again", model="flaky-429-1").status_code == 429


@pytest.mark.parametrize("header", ["500", "fault-500", "flaky-500-1"])
def test_the_fault_header_works_with_any_model(client: httpx.Client, header: str) -> None:
    response = client.post("/chat/completions", json=chat_body(), headers={"X-Fake-Fault": header})
    assert response.status_code == 500


@pytest.mark.parametrize(
    ("model", "header"), [("fault-nope", None), ("flaky-500-x", None), ("fake-chat", "nope")]
)
def test_an_unknown_fault_is_rejected(client: httpx.Client, model: str, header: str | None) -> None:
    headers = {"X-Fake-Fault": header} if header else {}
    response = client.post("/chat/completions", json=chat_body(model=model), headers=headers)
    assert response.status_code == 400
    assert "fault" in response.json()["error"]["message"]


def test_invalid_json_is_rejected_with_a_clear_error(client: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    response = client.post("/chat/completions", content=b"{not json", headers=headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "JSON" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "fake-chat"}, "messages"),
        ({"model": "fake-chat", "messages": []}, "messages"),
    ],
)
def test_a_chat_request_missing_a_required_field_is_rejected(
    client: httpx.Client, body: dict[str, Any], param: str
) -> None:
    response = client.post("/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert param in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [[1, 2], {"model": "fake-embed"}, {"model": "fake-embed", "input": 3}])
def test_a_bad_embeddings_request_is_rejected(client: httpx.Client, body: Any) -> None:
    assert client.post("/embeddings", json=body).status_code == 400


def test_stats_count_requests_per_route_and_keep_bodies(
    client: httpx.Client, fake_llm: FakeLLMServer
) -> None:
    chat(client, "counted")
    embed(client, "counted")
    client.get("/models")
    assert (fake_llm.stats["chat"], fake_llm.stats["embeddings"], fake_llm.stats["models"]) == (1, 1, 1)
    assert fake_llm.stats.bodies[0]["messages"][0]["content"] == "counted"
    assert len(fake_llm.stats.bodies) == 2
    assert fake_llm.stats.requests[0].route == "chat"


def test_each_test_starts_with_empty_stats(fake_llm: FakeLLMServer) -> None:
    assert dict(fake_llm.stats) == {"chat": 0, "embeddings": 0, "models": 0, "health": 0}
    assert not fake_llm.stats.bodies


def test_recorded_bodies_are_bounded(client: httpx.Client, fake_llm: FakeLLMServer) -> None:
    limit = fake_llm.stats.bodies.maxlen
    assert limit is not None
    for i in range(limit + 5):
        embed(client, f"text {i}")
    assert len(fake_llm.stats.bodies) == limit
    assert fake_llm.stats.last_body["input"] == f"text {limit + 4}"


def test_three_hundred_concurrent_requests_all_succeed(fake_llm: FakeLLMServer) -> None:
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    # httpcore's own pool is O(n^2) in waiting requests (~4 s of client CPU here), so use aiohttp.
    transport = AiohttpTransport(limits=limits)
    headers = {"X-Fake-Latency-Ms": "50"}

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=fake_llm.base_url, transport=transport, timeout=30) as http:
            bodies = [chat_body(f"request {i}", stream=i % 3 == 0) for i in range(300)]
            requests = [http.post("/chat/completions", json=b, headers=headers) for b in bodies]
            return await asyncio.gather(*requests)

    started = time.monotonic()
    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [200] * 300
    assert fake_llm.stats["chat"] == 300
    # Serial handling would need 15 s; half of that still proves the sleeps overlap.
    assert time.monotonic() - started < 7.5


def test_the_server_starts_and_stops_as_a_context_manager() -> None:
    with FakeLLMServer() as server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert httpx.get(f"{server.root_url}/health").status_code == 200
        url = server.root_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")


def test_the_server_module_imports_without_django() -> None:
    code = "import sys, apps.fakellm.server; print('django' in sys.modules)"
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_server_runs_as_a_module_and_prints_its_url() -> None:
    command = [sys.executable, "-m", "apps.fakellm.server", "--port", "0", "--latency-ms", "0"]
    with subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
            response = httpx.post(f"{base_url}/chat/completions", json=chat_body(), timeout=10)
            assert response.status_code == 200
        finally:
            process.terminate()


def test_the_management_command_serves_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from apps.fakellm.management.commands import fakellm

    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(fakellm.server, "serve", lambda *args: calls.append(args))
    command = fakellm.Command()
    parser = command.create_parser("manage.py", "fakellm")
    options = parser.parse_args(["--port", "9000", "--latency-ms", "25"])
    command.handle(**vars(options))
    assert calls[0][:3] == ("127.0.0.1", 9000, 25.0)

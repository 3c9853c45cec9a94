"""Provider adapters against the fake LLM server (and the canary for hostile replies)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from apps.engine import egress
from apps.engine.providers import get_provider, provider_for
from apps.engine.providers.anthropic import AnthropicProvider
from apps.engine.providers.limits import EndpointLimiter
from apps.engine.providers.openai import OpenAIProvider
from apps.engine.providers.retry import RetriesExhausted, with_retries
from apps.engine.types import ChatRequest, EndpointSpec, ProviderError

KEY = "sk-canary-7f3e9a51c0d2"


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with egress.async_client(policy=egress.Policy.LLM) as http:
        yield http


def endpoint(base_url: str, kind: str = "openai", **options: object) -> EndpointSpec:
    options.setdefault("api_key", KEY)
    return EndpointSpec(id=f"{kind}-1", kind=kind, base_url=base_url, **options)


def ask(text: str = "Hello there", model: str = "fake-chat", **params: object) -> ChatRequest:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    return ChatRequest(model=model, messages=messages, params=params)


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def retried(call, sleeps: Sleeps):
    return await with_retries(call, sleep=sleeps, rand=lambda: 1.0)


def test_the_registry_maps_kinds_to_adapter_classes():
    assert get_provider("openai") is OpenAIProvider
    assert get_provider("anthropic") is AnthropicProvider
    with pytest.raises(ValueError, match="unknown provider kind 'cohere'"):
        get_provider("cohere")


@pytest.mark.asyncio
async def test_a_completion_has_text_usage_latency_and_finish_reason(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.base_url), client)
    completion = await provider.complete(ask("REPLY: four words of reply"))
    assert completion.text == "four words of reply"
    assert (completion.tokens_in, completion.tokens_out) == (2 + 5, 4)
    assert completion.finish_reason == "stop"
    assert completion.latency_ms >= 0
    assert fake_llm.stats["chat"] == 1


@pytest.mark.asyncio
async def test_usage_is_taken_from_the_last_chunk_not_summed(client, fake_llm):
    completion = await provider_for(endpoint(fake_llm.base_url), client).complete(ask("one two three"))
    plain = httpx.post(f"{fake_llm.base_url}/chat/completions", json=fake_llm.stats.last_body | {"stream": False})
    usage = plain.json()["usage"]
    assert (completion.tokens_in, completion.tokens_out) == (usage["prompt_tokens"], usage["completion_tokens"])


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [False, True])
async def test_parameters_are_passed_through_streamed_or_not(client, fake_llm, stream):
    params = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 3, "stop": ["\n"], "seed": 7,
              "response_format": {"type": "text"}, "top_k": 40}
    provider = provider_for(endpoint(fake_llm.base_url), client)
    provider.stream = stream
    completion = await provider.complete(ask(**params))
    body = fake_llm.stats.last_body
    assert {k: body[k] for k in params} == params
    assert body.get("stream", False) is stream
    if stream:
        assert body["stream_options"] == {"include_usage": True}
    assert completion.tokens_in > 0 and completion.tokens_out == 3
    assert completion.finish_reason == "length"
    assert len(completion.text.split()) == 3


@pytest.mark.asyncio
async def test_the_key_is_sent_as_a_bearer_token_only_when_set(client, fake_llm):
    await provider_for(endpoint(fake_llm.base_url), client).complete(ask())
    await provider_for(endpoint(fake_llm.base_url, api_key=""), client).complete(ask())
    first, second = [r.headers for r in fake_llm.stats.requests]
    assert first["Authorization"] == f"Bearer {KEY}"
    assert "Authorization" not in second


@pytest.mark.asyncio
@pytest.mark.parametrize("stream", [False, True])
async def test_a_truncated_reply_is_retried_then_fails_clearly(client, fake_llm, stream):
    provider, sleeps = provider_for(endpoint(fake_llm.base_url), client), Sleeps()
    provider.stream = stream
    with pytest.raises(RetriesExhausted) as caught:
        await retried(lambda: provider.complete(ask(model="fault-truncate")), sleeps)
    message = str(caught.value)
    expected = "stream ended early" if stream else "reply ended early"
    assert message.startswith(f"failed after 5 attempts; last error: {expected}")
    assert caught.value.retryable
    assert fake_llm.stats["chat"] == 5
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


def sse(*events: dict | str) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


def delta(text: str | None = None, finish: str | None = None, usage: dict | None = None) -> dict:
    choice = {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
    return {"choices": [choice], **({"usage": usage} if usage else {})}


@pytest.mark.asyncio
async def test_a_stream_that_ends_cleanly_without_done_or_finish_reason_is_truncated(client, canary):
    canary.reply(200, sse(delta("Once"), delta(" upon")), {"Content-Type": "text/event-stream"})
    with pytest.raises(ProviderError, match="stream ended early: 127.0.0.1 closed it after 2 events") as caught:
        await provider_for(endpoint(f"{canary.url}/v1"), client).complete(ask())
    assert caught.value.retryable


@pytest.mark.asyncio
async def test_a_finish_reason_without_done_is_a_complete_answer(client, canary):
    usage = {"prompt_tokens": 3, "completion_tokens": 2}
    body = sse(delta("Hi"), delta(" there", "stop", usage))
    canary.reply(200, body, {"Content-Type": "text/event-stream"})
    completion = await provider_for(endpoint(f"{canary.url}/v1"), client).complete(ask())
    assert (completion.text, completion.finish_reason, completion.tokens_out) == ("Hi there", "stop", 2)


@pytest.mark.asyncio
async def test_a_server_that_ignores_stream_and_answers_in_one_piece_still_works(client, canary):
    reply = {"choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}],
             "usage": {"prompt_tokens": 4, "completion_tokens": 1}}
    canary.reply(200, json.dumps(reply).encode(), {"Content-Type": "application/json"})
    completion = await provider_for(endpoint(f"{canary.url}/v1"), client).complete(ask())
    assert (completion.text, completion.tokens_in, completion.tokens_out) == ("whole", 4, 1)


@pytest.mark.asyncio
async def test_a_429_honours_retry_after_and_finally_fails_with_a_clear_message(client, fake_llm):
    provider, sleeps = provider_for(endpoint(fake_llm.base_url), client), Sleeps()
    with pytest.raises(RetriesExhausted) as caught:
        await retried(lambda: provider.complete(ask(model="fault-429")), sleeps)
    assert str(caught.value) == (
        "failed after 5 attempts; last error: HTTP 429 from 127.0.0.1: Rate limit reached (fake)."
    )
    assert caught.value.status == 429
    assert sleeps == [1.0, 1.0, 1.0, 1.0]
    assert fake_llm.stats["chat"] == 5


@pytest.mark.asyncio
async def test_a_flaky_server_succeeds_on_the_third_attempt(client, fake_llm):
    provider, sleeps = provider_for(endpoint(fake_llm.base_url), client), Sleeps()
    completion = await retried(lambda: provider.complete(ask(model="flaky-500-2")), sleeps)
    assert completion.text.startswith("[flaky-500-2] echo: Hello there")
    assert fake_llm.stats["chat"] == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.asyncio
async def test_a_400_fails_at_once(client, fake_llm):
    provider, sleeps = provider_for(endpoint(fake_llm.base_url), client), Sleeps()
    with pytest.raises(ProviderError, match="HTTP 400 from 127.0.0.1: Invalid request") as caught:
        await retried(lambda: provider.complete(ask(model="fault-400")), sleeps)
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert fake_llm.stats["chat"] == 1
    assert sleeps == []


@pytest.mark.asyncio
async def test_a_hanging_server_is_a_retryable_read_timeout(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.base_url, read_timeout_s=0.2), client)
    with pytest.raises(ProviderError, match=r"sent nothing for 0.2s \(read timeout\)") as caught:
        await provider.complete(ask(model="fault-hang"))
    assert caught.value.retryable


@pytest.mark.asyncio
async def test_a_malformed_reply_is_a_clear_error_that_is_not_retried(client, fake_llm):
    provider, sleeps = provider_for(endpoint(fake_llm.base_url), client), Sleeps()
    with pytest.raises(ProviderError, match="127.0.0.1 sent a response that is not valid JSON") as caught:
        await retried(lambda: provider.complete(ask(model="fault-malformed")), sleeps)
    assert not caught.value.retryable
    assert fake_llm.stats["chat"] == 1


@pytest.mark.asyncio
async def test_embeddings_come_back_in_order_one_per_text(client, fake_llm):
    vectors = await provider_for(endpoint(fake_llm.base_url), client).embed("fake-embed", ["a", "b", "a"])
    assert len(vectors) == 3
    assert all(len(v) == 64 and math.isclose(math.hypot(*v), 1.0) for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert fake_llm.stats.last_body["input"] == ["a", "b", "a"]


@pytest.mark.asyncio
async def test_list_models_returns_the_model_ids(client, fake_llm):
    models = await provider_for(endpoint(fake_llm.base_url), client).list_models()
    assert {"fake-chat", "fake-embed", "fault-429"} <= set(models)


@pytest.mark.asyncio
async def test_anthropic_sends_the_messages_api_shape_and_reads_its_usage(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.root_url, kind="anthropic"), client)
    completion = await provider.complete(ask("REPLY: hi from claude", stop="END", seed=3))
    assert completion.text == "hi from claude"
    assert (completion.tokens_in, completion.tokens_out) == (2 + 4, 3)
    assert completion.finish_reason == "stop"
    body, headers = fake_llm.stats.last_body, fake_llm.stats.requests[-1].headers
    assert body["system"] == "Be brief."
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["max_tokens"] == 1024
    assert body["stop_sequences"] == ["END"]
    assert "seed" not in body
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert "Authorization" not in headers


@pytest.mark.asyncio
async def test_anthropic_reports_a_max_tokens_stop_as_length(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.root_url + "/v1", kind="anthropic"), client)
    completion = await provider.complete(ask("one two three four five", max_tokens=2))
    assert completion.finish_reason == "length"
    assert completion.tokens_out == 2


@pytest.mark.asyncio
async def test_anthropic_errors_and_truncations_are_classified(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.root_url, kind="anthropic"), client)
    with pytest.raises(ProviderError) as rate_limited:
        await provider.complete(ask(model="fault-429"))
    with pytest.raises(ProviderError) as truncated:
        await provider.complete(ask(model="fault-truncate"))
    assert (rate_limited.value.retryable, rate_limited.value.retry_after_s) == (True, 1.0)
    assert truncated.value.retryable


@pytest.mark.asyncio
async def test_anthropic_has_no_embeddings_but_lists_models(client, fake_llm):
    provider = provider_for(endpoint(fake_llm.root_url, kind="anthropic"), client)
    with pytest.raises(ProviderError, match="embeddings not supported"):
        await provider.embed("any", ["text"])
    assert "fake-chat" in await provider.list_models()


@pytest.mark.asyncio
async def test_an_echoed_api_key_is_scrubbed_from_the_error(client, canary):
    error = {"error": {"message": f"Incorrect API key provided: {KEY}. Find yours at example.com."}}
    canary.reply(401, json.dumps(error).encode(), {"Content-Type": "application/json"})
    for kind, base in (("openai", f"{canary.url}/v1"), ("anthropic", canary.url)):
        with pytest.raises(ProviderError) as caught:
            await provider_for(endpoint(base, kind=kind), client).complete(ask())
        assert KEY not in str(caught.value)
        assert "Incorrect API key provided: [REDACTED]" in str(caught.value)
        assert caught.value.status == 401


@pytest.mark.asyncio
async def test_a_redirect_from_an_endpoint_is_a_permanent_error(client, make_canary):
    endpoint_server, elsewhere = make_canary(), make_canary()
    endpoint_server.reply(307, b"", {"Location": f"http://localhost:{elsewhere.port}/steal"})
    provider = provider_for(endpoint(f"{endpoint_server.url}/v1"), client)
    with pytest.raises(ProviderError, match="redirect to localhost not followed") as caught:
        await provider.complete(ask())
    assert not caught.value.retryable
    assert elsewhere.hits == 0


@pytest.mark.asyncio
async def test_an_endpoint_on_a_metadata_address_is_refused_without_retry(client):
    provider = provider_for(endpoint("http://169.254.169.254/v1"), client)
    with pytest.raises(ProviderError, match="cloud metadata address") as caught:
        await provider.complete(ask())
    assert not caught.value.retryable


@pytest.mark.asyncio
async def test_the_endpoint_limiter_keeps_calls_in_flight_at_the_endpoint_limit(client, fake_llm):
    fake_llm.latency_ms = 20
    spec = endpoint(fake_llm.base_url, max_concurrency=3)
    provider, limiter = provider_for(spec, client), EndpointLimiter()
    in_flight = peak = 0

    async def call(i: int) -> None:
        nonlocal in_flight, peak
        async with limiter.slot(spec):
            in_flight += 1
            peak = max(peak, in_flight)
            await provider.complete(ask(f"question {i}"))
            in_flight -= 1

    await asyncio.gather(*(call(i) for i in range(12)))
    assert peak == 3
    assert fake_llm.stats["chat"] == 12

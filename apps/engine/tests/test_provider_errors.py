"""Whatever goes wrong inside an adapter call is a ProviderError: never an exception that kills a sweep."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from apps.engine import egress
from apps.engine.providers import provider_for
from apps.engine.providers.retry import with_retries
from apps.engine.types import ChatRequest, EndpointSpec, ProviderError

UNREQUESTABLE = [
    "http://0127.0.0.1:1/v1",  # leading zeros: httpx refuses the address
    "http://0251.0376.0251.0376:8000/v1",
    "http://[::1:1/v1",
    "http://127.0.0.1:abc/v1",
    "http://127.0.0.1:99999/v1",
    "http://a..b/v1",  # an empty label: no resolver can look it up
    "http://xn--a.com/v1",  # punycode that does not decode
    "http://admin:pa55word@127.0.0.1:1/v1",
]


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with egress.async_client(policy=egress.Policy.LLM) as http:
        yield http


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def ask() -> ChatRequest:
    return ChatRequest(model="fake-chat", messages=[{"role": "user", "content": "Hello"}], params={})


def calls(provider):
    return {
        "complete": lambda: provider.complete(ask()),
        "list_models": provider.list_models,
        "embed": lambda: provider.embed("fake-embed", ["some text"]),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("url", UNREQUESTABLE)
async def test_an_endpoint_url_that_cannot_be_requested_fails_at_once_with_a_clear_error(client, canary, kind, url):
    provider = provider_for(EndpointSpec(id="e1", kind=kind, base_url=url, api_key="sk-canary-1"), client)
    for name in ("complete", "list_models"):
        sleeps = Sleeps()
        with pytest.raises(ProviderError) as caught:
            await with_retries(calls(provider)[name], sleep=sleeps, rand=lambda: 1.0)
        assert "invalid endpoint URL" in str(caught.value), (name, str(caught.value))
        assert not caught.value.retryable and sleeps == [], name
        assert "pa55word" not in str(caught.value) and "sk-canary-1" not in str(caught.value)


@pytest.mark.asyncio
async def test_embeddings_on_such_a_url_are_a_clear_error_too(client):
    provider = provider_for(EndpointSpec(id="e1", kind="openai", base_url="http://0127.0.0.1:1/v1"), client)
    with pytest.raises(ProviderError, match="invalid endpoint URL"):
        await provider.embed("fake-embed", ["some text"])


@pytest.mark.asyncio
@pytest.mark.parametrize("reply", [
    {"choices": ["not an object"]},
    {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": "many"}},
])
async def test_a_reply_that_trips_up_the_adapter_is_a_call_error_not_a_crash(client, canary, reply):
    canary.reply(200, json.dumps(reply).encode(), {"Content-Type": "application/json"})
    provider = provider_for(EndpointSpec(id="e1", kind="openai", base_url=f"{canary.url}/v1"), client)
    with pytest.raises(ProviderError, match="127.0.0.1") as caught:
        await provider.complete(ask())
    assert not caught.value.retryable


@pytest.mark.asyncio
async def test_an_anthropic_reply_with_odd_usage_is_a_call_error_not_a_crash(client, canary):
    reply = {"content": [{"type": "text", "text": "hi"}], "usage": ["not", "an", "object"], "stop_reason": "end_turn"}
    canary.reply(200, json.dumps(reply).encode(), {"Content-Type": "application/json"})
    provider = provider_for(EndpointSpec(id="e1", kind="anthropic", base_url=canary.url), client)
    with pytest.raises(ProviderError):
        await provider.complete(ask())

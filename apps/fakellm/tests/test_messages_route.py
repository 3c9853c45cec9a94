"""The Anthropic-compatible `POST /v1/messages` route of the fake server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apps.fakellm.server import FakeLLMServer

HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "test"}


def post(fake_llm: FakeLLMServer, body: dict[str, Any], headers: dict[str, str] = HEADERS) -> httpx.Response:
    return httpx.post(f"{fake_llm.root_url}/v1/messages", json=body, headers=headers, timeout=10)


def body(text: str = "Hello there", **extra: Any) -> dict[str, Any]:
    return {"model": "fake-chat", "max_tokens": 100, "messages": [{"role": "user", "content": text}], **extra}


def test_a_message_reply_has_text_blocks_stop_reason_and_usage(fake_llm):
    response = post(fake_llm, body("REPLY: two words", system="Answer briefly."))
    assert response.status_code == 200
    reply = response.json()
    assert reply["type"] == "message"
    assert reply["content"] == [{"type": "text", "text": "two words"}]
    assert reply["stop_reason"] == "end_turn"
    assert reply["usage"] == {"input_tokens": 2 + 3, "output_tokens": 2}
    assert fake_llm.stats["chat"] == 1


def test_max_tokens_cuts_the_reply_and_says_so(fake_llm):
    reply = post(fake_llm, body("one two three four", max_tokens=2)).json()
    assert reply["stop_reason"] == "max_tokens"
    assert reply["usage"]["output_tokens"] == 2


@pytest.mark.parametrize(("payload", "headers"), [
    (body(max_tokens=None), HEADERS),
    (body(), {"x-api-key": "test"}),
    ({"model": "fake-chat", "max_tokens": 5}, HEADERS),
])
def test_a_request_without_max_tokens_messages_or_version_header_is_a_400(fake_llm, payload, headers):
    assert post(fake_llm, payload, headers).status_code == 400


def test_faults_apply_to_messages_too(fake_llm):
    response = post(fake_llm, body(model="fault-429"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"

"""The demo models answer like a support agent whose rubric coverage follows the config."""

from __future__ import annotations

import re
from collections.abc import Iterator
from statistics import mean
from typing import Any

import httpx
import pytest

from apps.fakellm.demo import FILLER, RUBRIC_KEYWORDS
from apps.fakellm.replies import reply_content
from apps.fakellm.server import FakeLLMServer

CHECKLIST = ("Be concise: thank the customer, apologise, give a ticket number, "
             "promise an answer within 24 hours and invite them to reply.")
PLAIN = "You are a friendly support agent."
MESSAGES = [f"Customer message: My order number {n} has not arrived yet.\nWrite a reply." for n in range(60)]


def body(text: str, *, model: str = "demo-pro", system: str = PLAIN, temperature: float = 0.6) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    return {"model": model, "messages": messages, "temperature": temperature, "max_tokens": 200}


def coverage(**config: Any) -> float:
    """Mean share of rubric keywords in the replies to MESSAGES."""
    replies = [reply_content(body(text, **config))[0].casefold() for text in MESSAGES]
    return mean(sum(word in reply for word in RUBRIC_KEYWORDS) / len(RUBRIC_KEYWORDS) for reply in replies)


def words(**config: Any) -> float:
    return mean(len(reply_content(body(text, **config))[0].split()) for text in MESSAGES)


@pytest.fixture
def client(fake_llm: FakeLLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_llm.base_url, timeout=10) as http:
        yield http


def test_a_lower_temperature_covers_more_of_the_rubric():
    assert coverage(temperature=0.2) > coverage(temperature=0.6) + 0.1 > coverage(temperature=1.0) + 0.2


def test_a_system_prompt_that_asks_for_the_rubric_covers_more_of_it():
    assert coverage(system=CHECKLIST) > coverage(system=PLAIN) + 0.15


def test_the_larger_demo_model_covers_more_of_the_rubric():
    assert coverage(model="demo-pro") > coverage(model="demo-mini") + 0.1


def test_a_concise_prompt_and_a_low_temperature_give_shorter_replies():
    assert words(system=CHECKLIST, temperature=1.0) < words(system=PLAIN, temperature=1.0) - 15
    assert words(system=PLAIN, temperature=0.2) < words(system=PLAIN, temperature=1.0) - 15


def test_items_differ_so_scores_have_spread():
    per_item = {sum(w in reply_content(body(t))[0] for w in RUBRIC_KEYWORDS) for t in MESSAGES}
    assert len(per_item) >= 3


def test_the_same_request_gets_the_same_reply_and_a_changed_temperature_may_not():
    text = MESSAGES[0]
    assert reply_content(body(text)) == reply_content(body(text))
    variants = {reply_content(body(text, temperature=t / 10))[0] for t in range(11)}
    assert len(variants) > 3


def test_a_reply_reads_as_sentences_quoting_the_customer():
    reply, finish = reply_content(body("Customer message: My parcel has been stuck in transit for a week.\nWrite "
                                       "a reply.", system=CHECKLIST, temperature=0.2))
    assert finish == "stop"
    assert '"My parcel has been stuck in transit for a week"' in reply
    sentences = re.split(r"(?<=[.!?]) ", reply)
    assert len(sentences) >= 4 and all(s[0].isupper() and s.endswith((".", "!", "?")) for s in sentences)
    assert "echo" not in reply and "[demo-pro]" not in reply


def test_filler_sentences_carry_no_rubric_keyword():
    assert not [line for line in FILLER for word in RUBRIC_KEYWORDS if word in line.casefold()]


def test_max_tokens_still_cuts_a_demo_reply():
    reply, finish = reply_content({**body(MESSAGES[0]), "max_tokens": 5})
    assert len(reply.split()) == 5 and finish == "length"


def test_a_scripted_reply_wins_over_the_demo_agent():
    assert reply_content(body("REPLY: exactly this"))[0] == "exactly this"


def test_the_models_list_offers_the_demo_models(client):
    ids = {model["id"] for model in client.get("/models").json()["data"]}
    assert {"demo-mini", "demo-pro", "fake-chat"} <= ids


def test_a_demo_model_answers_over_http_plain_streamed_and_anthropic_style(client):
    plain = client.post("/chat/completions", json=body(MESSAGES[1])).json()["choices"][0]["message"]["content"]
    with client.stream("POST", "/chat/completions", json={**body(MESSAGES[1]), "stream": True}) as response:
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: {")]
    streamed = "".join(httpx.Response(200, content=e).json()["choices"][0]["delta"].get("content", "")
                       for e in events if '"choices": [{' in e)
    anthropic = client.post("/messages", headers={"anthropic-version": "2023-06-01"}, json={
        "model": "demo-pro", "system": CHECKLIST, "max_tokens": 200, "temperature": 0.2,
        "messages": [{"role": "user", "content": MESSAGES[1]}]}).json()["content"][0]["text"]
    assert plain == streamed and plain.startswith(("Thank", "About"))
    assert sum(word in anthropic.casefold() for word in RUBRIC_KEYWORDS) >= 3

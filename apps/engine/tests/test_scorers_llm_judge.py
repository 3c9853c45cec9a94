"""The LLM judge: prompt rendering, rating parsing, retries, and a real call to the fake server."""

from __future__ import annotations

import pytest

from apps.engine import egress
from apps.engine.providers import get_provider
from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.judge_parse import parse_rating
from apps.engine.scorers.llm_judge import LLMJudgeScorer
from apps.engine.types import ChatRequest, Completion, EndpointSpec, ProviderError

ENDPOINT = "6f1c2b6e-4c59-4e44-9f0e-0f7a3c1d2e3f"
ITEM = {"id": "1", "input": "What is 2 + 2?", "reference": "4"}


class FakeJudge:
    """Replies in turn with the given texts and records every request."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[str, ChatRequest]] = []

    async def __call__(self, endpoint_id: str, request: ChatRequest) -> Completion:
        self.calls.append((endpoint_id, request))
        reply = self.replies[min(len(self.calls), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return Completion(text=reply, tokens_in=10, tokens_out=5, latency_ms=1)


def judge(**options) -> LLMJudgeScorer:
    return LLMJudgeScorer({"endpoint": ENDPOINT, "model": "judge-model", **options})


async def run(scorer: LLMJudgeScorer, call, output: str = "The answer is 4.", item: dict = ITEM):
    return await scorer.evaluate(ScoringContext(item=item, output=output, judge=call))


@pytest.mark.asyncio
async def test_the_default_prompt_shows_input_reference_and_output_and_the_rating_maps_to_zero_one():
    fake = FakeJudge("Correct and concise.\nSCORE: 10")
    result = await run(judge(criteria="Correctness only."), fake)
    assert result.value == 1.0
    assert result.metadata == {"rating": 10.0, "scale": [1.0, 10.0], "reasoning": "Correct and concise.",
                               "format": "labelled", "attempts": 1, "model": "judge-model"}
    endpoint_id, request = fake.calls[0]
    assert endpoint_id == ENDPOINT and request.model == "judge-model" and request.params == {"temperature": 0.0}
    prompt = request.messages[0]["content"]
    for text in ("What is 2 + 2?", "REFERENCE ANSWER", "The answer is 4.", "Correctness only.",
                 "SCORE: <number from 1 to 10>"):
        assert text in prompt


@pytest.mark.asyncio
async def test_without_a_reference_the_prompt_leaves_that_section_out():
    fake = FakeJudge("SCORE: 1")
    result = await run(judge(), fake, item={"input": "hi"})
    assert result.value == 0.0
    assert "REFERENCE" not in fake.calls[0][1].messages[0]["content"]


@pytest.mark.parametrize(("reply", "rating"), [
    ("Fine.\nSCORE: 8", 8),
    ('{"score": 7, "reason": "mostly right"}', 7),
    ('```json\n{"rating": "6", "reasoning": "ok"}\n```', 6),
    ("Rating: 8/10", 8),
    ("8/10", 8),
    ("**Score:** 7", 7),
    ("Score: **9**", 9),
    ("A score of 3 would be harsh; final score = 7.5", 7.5),
    ("I'd give it 4/5.", 8),
    ("Verdict: 3 out of 10", 3),
    ("It cites 3/4 facts.\nSCORE: 9", 9),
    ("  6  ", 6),
])
def test_the_parser_accepts_the_shapes_judges_actually_reply_in(reply, rating):
    assert parse_rating(reply, 10).value == rating


@pytest.mark.parametrize("reply", ["I cannot rate this.", "", "score_card has 8 rows", "{}"])
def test_replies_without_a_rating_are_unparseable(reply):
    assert parse_rating(reply, 10) is None


@pytest.mark.asyncio
async def test_json_reasoning_is_kept():
    result = await run(judge(), FakeJudge('{"score": 4, "reason": "misses the point"}'))
    assert result.value == pytest.approx(3 / 9)
    assert result.metadata["reasoning"] == "misses the point" and result.metadata["format"] == "json"


@pytest.mark.asyncio
async def test_an_unparseable_reply_is_asked_again_as_a_new_distinct_call():
    fake = FakeJudge("Looks good to me!", "SCORE: 6")
    result = await run(judge(), fake)
    assert result.value == pytest.approx(5 / 9) and result.metadata["attempts"] == 2
    first, second = (request.messages for _, request in fake.calls)
    assert second[:1] == first
    assert second[1] == {"role": "assistant", "content": "Looks good to me!"}
    assert "SCORE: <number>" in second[2]["content"] and second[2]["role"] == "user"


@pytest.mark.asyncio
async def test_an_out_of_range_rating_is_retried_too():
    fake = FakeJudge("SCORE: 42", "SCORE: 2")
    result = await run(judge(), fake)
    assert result.metadata["rating"] == 2 and len(fake.calls) == 2


@pytest.mark.asyncio
async def test_after_the_retries_it_is_an_error_with_the_last_reply():
    fake = FakeJudge("hmm", "still thinking", "no")
    result = await run(judge(), fake)
    assert result.value is None
    assert result.error == "the judge's reply had no usable rating after 3 attempts (no rating found)"
    assert result.metadata["last_reply"] == "no" and len(fake.calls) == 3
    assert len({str(request.messages) for _, request in fake.calls}) == 3
    assert (await run(judge(max_retries=0), FakeJudge("hmm"))).metadata["attempts"] == 1


@pytest.mark.asyncio
async def test_a_failing_judge_call_is_a_scorer_error():
    result = await run(judge(), FakeJudge(ProviderError("HTTP 401 from judge.example: bad key")))
    assert result.value is None and result.error == "judge call failed: HTTP 401 from judge.example: bad key"
    assert (await run(judge(), None)).error == "no judge is available to this scorer"


@pytest.mark.asyncio
async def test_a_custom_scale_and_prompt_are_used():
    fake = FakeJudge("SCORE: 3")
    scorer = judge(scale_min=0, scale_max=4, temperature=0.3,
                   prompt="Rate {{ output }} against {{ reference }} for {{ item.id }} "
                          "({{ scale_min }}-{{ scale_max }})")
    result = await run(scorer, fake)
    assert result.value == 0.75
    assert fake.calls[0][1].messages[0]["content"] == "Rate The answer is 4. against 4 for 1 (0-4)"
    assert fake.calls[0][1].params == {"temperature": 0.3}


@pytest.mark.asyncio
async def test_a_prompt_that_fails_to_render_is_a_scorer_error():
    result = await run(judge(prompt="{{ item.missing_field }}"), FakeJudge("SCORE: 5"))
    assert result.value is None and "judge prompt: unknown attribute 'missing_field'" in result.error


@pytest.mark.parametrize(("options", "field"), [
    ({"model": "m"}, "endpoint"),
    ({"endpoint": "judge-1", "model": "m"}, "endpoint"),
    ({"endpoint": ENDPOINT}, "model"),
    ({"endpoint": ENDPOINT, "model": "m", "prompt": "{{ output"}, "prompt"),
    ({"endpoint": ENDPOINT, "model": "m", "prompt": "{{ secret }}"}, "prompt"),
    ({"endpoint": ENDPOINT, "model": "m", "scale_min": 5, "scale_max": 5}, "scale_max"),
    ({"endpoint": ENDPOINT, "model": "m", "temperature": 3}, "temperature"),
    ({"endpoint": ENDPOINT, "model": "m", "max_retries": 9}, "max_retries"),
    ({"endpoint": ENDPOINT, "model": "m", "criteria": 5}, "criteria"),
])
def test_bad_options_name_the_option(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        LLMJudgeScorer.validate_options(options)
    assert caught.value.field == field


@pytest.mark.asyncio
async def test_end_to_end_against_the_fake_server_through_the_openai_provider(fake_llm):
    spec = EndpointSpec(id=ENDPOINT, kind="openai", base_url=fake_llm.base_url)
    async with egress.async_client(policy=egress.Policy.LLM) as client:
        provider = get_provider("openai")(spec, client)

        async def call(endpoint_id: str, request: ChatRequest) -> Completion:
            assert endpoint_id == ENDPOINT
            return await provider.complete(request)

        scorer = judge(model="fake-chat", prompt="Judge this: {{ output }}\nREPLY: Solid answer. SCORE: 8")
        result = await run(scorer, call)
        assert result.value == pytest.approx(7 / 9)
        assert result.metadata["rating"] == 8 and result.metadata["reasoning"] == "Solid answer."
        assert fake_llm.stats["chat"] == 1
        assert "Judge this: The answer is 4." in fake_llm.stats.last_body["messages"][0]["content"]

        stubborn = await run(judge(model="fake-chat", prompt="REPLY: I refuse to rate."), call)
        assert stubborn.value is None and stubborn.metadata["attempts"] == 3
        assert fake_llm.stats["chat"] == 4


def test_a_huge_reply_is_parsed_from_its_tail_quickly():
    reply = "```{" * 200_000 + "\nSCORE: 7"
    assert parse_rating(reply, 10).value == 7

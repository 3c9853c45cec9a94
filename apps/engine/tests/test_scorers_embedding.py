"""Embedding similarity: the fake server's /v1/embeddings through the OpenAI provider, and the local model."""

from __future__ import annotations

import sys

import pytest

from apps import engine
from apps.engine import egress
from apps.engine.providers import get_provider
from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.embedding import EmbeddingSimilarityScorer, cosine
from apps.engine.types import EndpointSpec, ProviderError

ENDPOINT = "0b7c8a52-93f4-4d7e-8a8e-3f6f1b2c9d10"


def scorer(**options) -> EmbeddingSimilarityScorer:
    return EmbeddingSimilarityScorer({"endpoint": ENDPOINT, "model": "fake-embed", **options})


def ctx(output: str, embed=None, **item) -> ScoringContext:
    return ScoringContext(item={"input": "q", **item}, output=output, embed=embed)


def fixed(*vectors):
    calls = []

    async def embed(endpoint_id, model, texts):
        calls.append((endpoint_id, model, texts))
        if isinstance(vectors[0], Exception):
            raise vectors[0]
        return list(vectors)

    embed.calls = calls
    return embed


def test_cosine_is_the_normalized_dot_product():
    assert cosine([1, 0], [1, 0]) == 1.0
    assert cosine([1, 0], [0, 2]) == 0.0
    assert cosine([1, 1], [-1, -1]) == pytest.approx(-1.0)
    for a, b in (([1, 0], [1, 0, 0]), ([0, 0], [1, 1]), ([], [])):
        with pytest.raises(ValueError):
            cosine(a, b)


@pytest.mark.asyncio
async def test_it_embeds_output_and_reference_and_scores_the_cosine():
    embed = fixed([1.0, 0.0], [0.6, 0.8])
    result = await scorer().evaluate(ctx("the output", embed, reference="the reference"))
    assert result.value == pytest.approx(0.6)
    assert result.metadata == {"provider": "endpoint", "model": "fake-embed", "cosine": 0.6, "dimensions": 2}
    assert embed.calls == [(ENDPOINT, "fake-embed", ["the output", "the reference"])]


@pytest.mark.asyncio
async def test_a_negative_cosine_is_clamped_to_zero_but_reported():
    result = await scorer().evaluate(ctx("a", fixed([1.0, 0.0], [-0.6, 0.8]), reference="b"))
    assert result.value == 0.0 and result.metadata["cosine"] == pytest.approx(-0.6)


@pytest.mark.asyncio
async def test_reference_wins_over_expected_and_no_reference_is_an_error():
    embed = fixed([1.0], [1.0])
    await scorer().evaluate(ctx("out", embed, reference="ref", expected="exp"))
    assert embed.calls[0][2] == ["out", "ref"]
    await scorer().evaluate(ctx("out", embed, expected={"answer": 4}))
    assert embed.calls[1][2] == ["out", '{"answer": 4}']
    missing = await scorer().evaluate(ctx("out", embed))
    assert missing.value is None and missing.error == "item has no reference"


@pytest.mark.asyncio
async def test_an_empty_output_scores_zero_without_a_call():
    embed = fixed([1.0], [1.0])
    result = await scorer().evaluate(ctx("  \n", embed, reference="ref"))
    assert result.value == 0.0 and result.metadata["note"] == "empty output" and embed.calls == []


@pytest.mark.asyncio
async def test_provider_failures_and_bad_vectors_are_scorer_errors():
    failed = await scorer().evaluate(ctx("a", fixed(ProviderError("HTTP 404 from x: no such model")), reference="b"))
    assert failed.error == "embedding failed: HTTP 404 from x: no such model"
    wrong_count = await scorer().evaluate(ctx("a", fixed([1.0]), reference="b"))
    assert wrong_count.error == "embedding failed: asked for 2 embeddings, got 1"
    zero = await scorer().evaluate(ctx("a", fixed([0.0, 0.0], [1.0, 0.0]), reference="b"))
    assert zero.error == "embedding failed: an embedding has zero length"
    unavailable = await scorer().evaluate(ctx("a", None, reference="b"))
    assert unavailable.error.startswith("embedding calls are not available")


@pytest.mark.asyncio
async def test_end_to_end_against_the_fake_servers_embeddings(fake_llm):
    spec = EndpointSpec(id=ENDPOINT, kind="openai", base_url=fake_llm.base_url)
    async with egress.async_client(policy=egress.Policy.LLM) as client:
        provider = get_provider("openai")(spec, client)

        async def embed(endpoint_id, model, texts):
            return await provider.embed(model, texts)

        same = await scorer().evaluate(ctx("Paris is the capital.", embed, reference="Paris is the capital."))
        other = await scorer().evaluate(ctx("Paris is the capital.", embed, reference="Bananas are yellow."))
    assert same.value == pytest.approx(1.0) and same.metadata["dimensions"] == 64
    assert other.value < 0.5 and other.metadata["cosine"] < 0.5
    assert fake_llm.stats["embeddings"] == 2
    assert fake_llm.stats.last_body["model"] == "fake-embed"


@pytest.mark.asyncio
async def test_the_local_provider_says_how_to_install_it_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "apps.engine.local_embeddings", None)
    monkeypatch.delattr(engine, "local_embeddings", raising=False)
    result = await EmbeddingSimilarityScorer({"provider": "local"}).evaluate(ctx("a", reference="b"))
    assert result.value is None
    assert "install the local model with bin/setup --local-embeddings" in result.error
    assert result.metadata == {"provider": "local"}


@pytest.mark.asyncio
async def test_the_local_provider_passes_on_the_models_own_unavailable_message(monkeypatch):
    from apps.engine import local_embeddings

    monkeypatch.setattr(local_embeddings, "local_model_available", lambda: (False, "missing: numpy; run bin/setup"))
    result = await EmbeddingSimilarityScorer({"provider": "local"}).evaluate(ctx("a", reference="b"))
    assert result.error == "embedding failed: missing: numpy; run bin/setup"


@pytest.mark.asyncio
async def test_the_local_minilm_model_ranks_a_paraphrase_above_an_unrelated_text():
    from apps.engine import local_embeddings

    available, why = local_embeddings.local_model_available()
    if not available:
        pytest.skip(why)
    local = EmbeddingSimilarityScorer({"provider": "local"})
    close = await local.evaluate(ctx("A cat was sitting on the rug.", reference="The cat sat on the mat."))
    far = await local.evaluate(ctx("Quarterly revenue rose 5 percent.", reference="The cat sat on the mat."))
    assert close.value > 0.6 > 0.2 > far.value
    assert close.metadata["dimensions"] == 384 and close.metadata["provider"] == "local"


@pytest.mark.parametrize(("options", "field"), [
    ({"model": "m"}, "endpoint"),
    ({"endpoint": ENDPOINT}, "model"),
    ({"provider": "cloud"}, "provider"),
    ({"provider": "local", "model": "all-MiniLM"}, "model"),
    ({"provider": "local", "dimensions": 3}, "dimensions"),
])
def test_bad_options_name_the_option(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        EmbeddingSimilarityScorer.validate_options(options)
    assert caught.value.field == field


def test_local_options_are_just_the_provider():
    assert EmbeddingSimilarityScorer.validate_options({"provider": "local", "endpoint": "", "model": None}) == {
        "provider": "local"}

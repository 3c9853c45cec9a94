"""The length scorer: units, bounds, linear and strict penalties."""

from __future__ import annotations

import pytest

from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.length import LengthScorer, count


async def score(output: str, **options):
    return await LengthScorer(options).evaluate(ScoringContext(item={"input": "q"}, output=output))


def test_units_count_code_points_words_and_rough_tokens():
    text = "Héllo, wörld! 👋 ok"
    assert count(text, "chars") == 18
    assert count(text, "words") == 4
    assert count(text, "tokens") == 6  # Héllo , wörld ! 👋 ok
    assert [count("", unit) for unit in ("chars", "words", "tokens")] == [0, 0, 0]


@pytest.mark.asyncio
async def test_inside_the_bounds_scores_one_with_the_count_explained():
    result = await score("one two three", unit="words", min=2, max=5)
    assert result.value == 1.0
    assert result.metadata == {"count": 3, "unit": "words", "min": 2, "max": 5, "penalty": "linear",
                               "outside": None, "distance": 0}


@pytest.mark.asyncio
async def test_linear_penalty_reaches_zero_at_tolerance_times_the_bound():
    assert (await score("x" * 125, max=100)).value == pytest.approx(0.5)
    assert (await score("x" * 150, max=100)).value == 0.0
    assert (await score("x" * 400, max=100)).value == 0.0
    over = await score("x" * 110, max=100, tolerance=1.0)
    assert over.value == pytest.approx(0.9)
    assert over.metadata["outside"] == "above" and over.metadata["distance"] == 10


@pytest.mark.asyncio
async def test_too_short_is_penalized_from_the_minimum():
    result = await score("a b c", unit="words", min=10)
    assert result.value == 0.0  # 5 short of 10 is 50% below: the default tolerance
    assert result.metadata["outside"] == "below"
    assert (await score("a b c d e f g h", unit="words", min=10)).value == pytest.approx(0.6)


@pytest.mark.asyncio
async def test_strict_penalty_is_zero_outside_and_a_zero_bound_has_no_tolerance():
    assert (await score("x" * 101, max=100, penalty="strict")).value == 0.0
    assert (await score("x", max=0)).value == 0.0
    assert (await score("", max=0)).value == 1.0


@pytest.mark.asyncio
async def test_empty_and_huge_outputs_score_without_trouble():
    assert (await score("", unit="words", min=1)).value == 0.0
    huge = await score("word " * 200_000, unit="tokens", max=1000)
    assert huge.value == 0.0 and huge.metadata["count"] == 200_000


@pytest.mark.parametrize(("options", "field"), [
    ({}, "max"),
    ({"min": 10, "max": 5}, "min"),
    ({"max": -1}, "max"),
    ({"max": 2.5}, "max"),
    ({"max": "10"}, "max"),
    ({"max": 10, "unit": "sentences"}, "unit"),
    ({"max": 10, "penalty": "quadratic"}, "penalty"),
    ({"max": 10, "tolerance": 0}, "tolerance"),
])
def test_bad_options_name_the_option(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        LengthScorer.validate_options(options)
    assert caught.value.field == field

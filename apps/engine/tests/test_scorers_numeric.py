"""The numeric scorer: parsing numbers out of prose and comparing them within a tolerance."""

from __future__ import annotations

import pytest

from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.scorers.numeric import numbers
from apps.engine.tests.labelled_helpers import score


def test_numbers_with_commas_units_signs_and_exponents_are_read_as_written():
    assert numbers("Revenue was $1,234,567.50 (up 12%)") == [1234567.5, 12.0]
    assert numbers("It weighs 42kg, or −3.5 °C, or -7, or +2") == [42.0, -3.5, -7.0, 2.0]
    assert numbers("1.5e3 and .25 and 3,5") == [1500.0, 0.25, 3.0]
    assert numbers("GPT4 answered 12; version 1.2.3") == [12.0]
    assert numbers("NaN, nan, inf, Infinity and nothing else") == []
    assert numbers("٤٢ and ４２") == [42.0, 42.0]


@pytest.mark.asyncio
async def test_the_first_number_is_compared_by_default_the_last_on_request_or_the_one_after_a_prefix():
    text = "Step 1: 6 × 7. Step 2: so the answer is 42."
    assert (await score("numeric", text, {"expected": 42})).value == 0.0
    assert (await score("numeric", text, {"expected": 42}, position="last")).value == 1.0
    prefixed = "Reasoning uses 3 and 4.\nAnswer: 1,200 apples (not 7)"
    result = await score("numeric", prefixed, {"expected": "1200"}, prefix="answer:")
    assert result.value == 1.0 and result.metadata["parsed"] == 1200.0
    assert (await score("numeric", "no prefix 1200", {"expected": 1200}, prefix="Answer:")).metadata["reasoning"] == \
        "no number found in the output after 'Answer:'"


@pytest.mark.asyncio
async def test_absolute_and_relative_tolerance_decide_and_the_explanation_gives_the_difference():
    assert (await score("numeric", "3.14", {"expected": 3.14159}, abs_tol=0.01)).value == 1.0
    off = await score("numeric", "3.2", {"expected": 3.14159}, abs_tol=0.01)
    assert off.value == 0.0 and "differs from 3.14159 by 0.05841" in off.metadata["reasoning"]
    assert (await score("numeric", "-99", {"expected": -100}, rel_tol=0.01)).value == 1.0
    assert (await score("numeric", "-98", {"expected": -100}, rel_tol=0.01)).value == 0.0
    assert (await score("numeric", "0.0", {"expected": 0})).value == 1.0


@pytest.mark.asyncio
async def test_an_output_without_a_number_scores_zero_but_a_bad_expected_value_is_an_error():
    assert (await score("numeric", "", {"expected": 1})).value == 0.0
    assert (await score("numeric", "NaN", {"expected": 1})).value == 0.0
    assert (await score("numeric", "1", {"expected": float("nan")})).error == \
        "the expected value nan is not a finite number"
    assert "is not a number" in (await score("numeric", "1", {"expected": "about half"})).error
    assert "true/false" in (await score("numeric", "1", {"expected": True})).error
    assert (await score("numeric", "1", {"id": "x"})).error == "item 'x' has no expected value (field `expected`)"
    assert (await score("numeric", "42", {"expected": "42 apples"})).value == 1.0


def test_tolerances_must_be_non_negative_finite_numbers():
    for options, field in [({"abs_tol": -1}, "abs_tol"), ({"rel_tol": float("nan")}, "rel_tol"),
                           ({"position": "middle"}, "position"), ({"prefix": ""}, "prefix")]:
        with pytest.raises(OptionsInvalid) as caught:
            validate_scorer_options("numeric", options)
        assert caught.value.field == field

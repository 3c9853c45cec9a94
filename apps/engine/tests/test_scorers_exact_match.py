"""exact_match and contains_expected: normalisation, where the expected value comes from, and bad items."""

from __future__ import annotations

import pytest

from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.tests.labelled_helpers import score


@pytest.mark.asyncio
async def test_case_and_whitespace_are_ignored_by_default_but_punctuation_is_not():
    assert (await score("exact_match", "  PARIS\n", {"expected": "Paris"})).value == 1.0
    assert (await score("exact_match", "New   York", {"expected": "new york"})).value == 1.0
    assert (await score("exact_match", "Paris.", {"expected": "Paris"})).value == 0.0
    assert (await score("exact_match", "Paris.", {"expected": "Paris"}, ignore_punctuation=True)).value == 1.0
    assert (await score("exact_match", "PARIS", {"expected": "Paris"}, case_sensitive=True)).value == 0.0


@pytest.mark.asyncio
async def test_a_prefix_such_as_answer_is_stripped_and_the_first_line_can_be_chosen():
    assert (await score("exact_match", "Answer: 42", {"expected": "42"}, strip_prefix="Answer:")).value == 1.0
    assert (await score("exact_match", "ANSWER:42", {"expected": 42}, strip_prefix=["Final:", "answer:"])).value == 1.0
    multi = "Blue\nBecause the sky scatters short wavelengths."
    assert (await score("exact_match", multi, {"expected": "blue"})).value == 0.0
    assert (await score("exact_match", multi, {"expected": "blue"}, first_line=True)).value == 1.0


@pytest.mark.asyncio
async def test_unicode_compares_after_case_folding_and_nfkc():
    assert (await score("exact_match", "STRASSE", {"expected": "straße"})).value == 1.0
    assert (await score("exact_match", "４２", {"expected": "42"})).value == 1.0
    assert (await score("exact_match", "Ünïcödé ✓", {"expected": "ünïcödé ✓"})).value == 1.0


@pytest.mark.asyncio
async def test_an_expected_list_accepts_any_of_its_answers_and_the_explanation_says_what_was_expected():
    assert (await score("exact_match", "NYC", {"expected": ["New York", "NYC"]})).value == 1.0
    wrong = await score("exact_match", "Boston", {"expected": ["New York", "NYC"]})
    assert wrong.value == 0.0 and wrong.metadata["reasoning"] == "expected 'New York | NYC', got 'boston'"


@pytest.mark.asyncio
async def test_an_empty_output_scores_zero_but_a_missing_expected_value_is_an_error_naming_the_field():
    empty = await score("exact_match", "", {"id": "q1", "expected": "Paris"})
    assert empty.value == 0.0 and empty.metadata["reasoning"] == "expected 'Paris', got nothing"
    missing = await score("exact_match", "Paris", {"id": "q1", "input": "Capital of France?"})
    assert missing.value is None and missing.error == "item 'q1' has no expected value (field `expected`)"
    assert (await score("exact_match", "Paris", {"expected": "  "})).error == "the expected value is empty"


@pytest.mark.asyncio
async def test_the_expected_value_may_come_from_another_field_or_a_template_reading_the_item():
    item = {"id": "q1", "input": {"question": "Capital?", "gold": {"city": "Paris"}}, "expected": "x"}
    assert (await score("exact_match", "paris", item, expected="gold.city")).value == 1.0
    assert (await score("exact_match", "The answer is Paris", item,
                        expected="The answer is {{ gold.city }}")).value == 1.0
    broken = await score("exact_match", "Paris", item, expected="{{ nope }}")
    assert broken.value is None and "unknown variable 'nope'" in broken.error
    reference_only = {"reference": "Paris"}
    assert (await score("exact_match", "Paris", reference_only)).value == 1.0


@pytest.mark.asyncio
async def test_contains_expected_finds_the_answer_inside_longer_text():
    assert (await score("contains_expected", "I think it is Paris, France.", {"expected": "paris"})).value == 1.0
    assert (await score("contains_expected", "Lyon", {"expected": "Paris"})).metadata["reasoning"] == \
        "does not contain 'Paris'"
    both = await score("contains_expected", "Paris is in France", {"expected": ["Paris", "France", "Europe"]})
    assert both.value == pytest.approx(2 / 3) and both.metadata["missing"] == ["Europe"]
    assert (await score("contains_expected", "Paris", {"expected": ["Rome", "Paris"]}, mode="any")).value == 1.0


@pytest.mark.asyncio
async def test_contains_expected_can_require_whole_words_and_treats_an_empty_output_as_a_miss():
    assert (await score("contains_expected", "the cathedral", {"expected": "cat"})).value == 1.0
    assert (await score("contains_expected", "the cathedral", {"expected": "cat"}, whole_word=True)).value == 0.0
    assert (await score("contains_expected", "", {"expected": "cat"})).value == 0.0


def test_bad_options_are_refused_naming_the_option():
    cases = [
        ("exact_match", {"expected": "not a field!"}, "expected"),
        ("exact_match", {"expected": "{{ broken"}, "expected"),
        ("exact_match", {"strip_prefix": ["", "x"]}, "strip_prefix"),
        ("exact_match", {"case_sensitive": "yes"}, "case_sensitive"),
        ("exact_match", {"casesensitive": True}, "casesensitive"),
        ("contains_expected", {"mode": "none"}, "mode"),
    ]
    for kind, options, field in cases:
        with pytest.raises(OptionsInvalid) as caught:
            validate_scorer_options(kind, options)
        assert caught.value.field == field, (kind, options)

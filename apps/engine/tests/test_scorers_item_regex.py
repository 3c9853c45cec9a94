"""The regex scorer: a pattern per item, bad patterns explained per item, slow patterns bounded."""

from __future__ import annotations

import pytest

from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.tests.labelled_helpers import score


@pytest.mark.asyncio
async def test_the_items_pattern_is_searched_and_the_match_is_explained():
    result = await score("regex", "Your order 48213 ships today", {"expected": r"\b\d{5}\b"})
    assert result.value == 1.0 and result.metadata["match"] == "48213"
    miss = await score("regex", "no number here", {"expected": r"\d{5}"})
    assert miss.value == 0.0 and miss.metadata["reasoning"] == "does not match '\\\\d{5}'"
    assert (await score("regex", "", {"expected": r"\d"})).value == 0.0


@pytest.mark.asyncio
async def test_fullmatch_ignore_case_and_a_template_around_the_items_value():
    item = {"expected": "yes|no", "input": {"code": "AB-1"}}
    assert (await score("regex", "yes", item, mode="fullmatch")).value == 1.0
    assert (await score("regex", "yes, indeed", item, mode="fullmatch")).value == 0.0
    assert (await score("regex", "YES", item, mode="fullmatch")).value == 0.0
    assert (await score("regex", "YES", item, mode="fullmatch", ignore_case=True)).value == 1.0
    assert (await score("regex", "ref: AB-1.", item, pattern=r"ref: {{ code }}\.")).value == 1.0
    assert (await score("regex", "ünïcode ✓", {"pattern": "ünï\\w+ ✓"}, pattern="pattern")).value == 1.0


@pytest.mark.asyncio
async def test_an_invalid_or_dangerous_pattern_is_an_error_on_that_item_never_a_crash():
    invalid = await score("regex", "abc", {"id": "i1", "expected": "(unclosed"})
    assert invalid.value is None and "is not a valid regular expression" in invalid.error
    assert "'(unclosed'" in invalid.error
    nested = await score("regex", "a" * 40 + "!", {"expected": "(a+)+$"})
    assert nested.value is None and "Nested unbounded quantifiers" in nested.error
    long = await score("regex", "abc", {"expected": "a" * 1001})
    assert long.value is None and "longer than 1000 characters" in long.error
    not_text = await score("regex", "abc", {"expected": ["a", "b"]})
    assert not_text.value is None and "must be text, not list" in not_text.error
    missing = await score("regex", "abc", {"id": "i9"})
    assert missing.error == "item 'i9' has no expected value (field `expected`)"


@pytest.mark.asyncio
async def test_a_long_output_is_searched_only_up_to_the_cap_and_fullmatch_is_not_tried():
    output = "x" * 100_000 + "needle"
    search = await score("regex", output, {"expected": "needle"})
    assert search.value == 0.0 and search.metadata["scanned_chars"] == 100_000
    full = await score("regex", output, {"expected": "x+needle"}, mode="fullmatch")
    assert full.value == 0.0 and "fullmatch not tried" in full.metadata["reasoning"]


def test_a_fixed_pattern_is_not_a_field_name_and_is_refused_pointing_to_the_format_scorer():
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("regex", {"pattern": r"^\d+$"})
    assert caught.value.field == "pattern" and "`format` scorer with kind `regex`" in caught.value.message
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("regex", {"mode": "match"})
    assert caught.value.field == "mode"

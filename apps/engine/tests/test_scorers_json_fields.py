"""The json_fields scorer: JSON found in the output, chosen (nested) fields compared with the expected object."""

from __future__ import annotations

import pytest

from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid
from apps.engine.tests.labelled_helpers import score

EXPECTED = {"name": "Ann Lee", "age": 41, "address": {"city": "Paris", "zip": "75001"}, "tags": ["vip", "eu"]}


@pytest.mark.asyncio
async def test_the_score_is_the_fraction_of_fields_that_match_and_the_explanation_names_the_others():
    output = '{"name": "Ann Lee", "age": 41.0, "address": {"city": "Lyon"}, "tags": ["vip", "eu"]}'
    result = await score("json_fields", output, {"expected": EXPECTED},
                         fields=["name", "age", "address.city", "address.zip", "tags"])
    assert result.value == pytest.approx(3 / 5)
    assert result.metadata["matched"] == ["name", "age", "tags"]
    assert result.metadata["mismatched"] == [{"field": "address.city", "expected": '"Paris"', "got": '"Lyon"'}]
    assert result.metadata["missing"] == ["address.zip"]
    assert result.metadata["reasoning"] == ('3 of 5 fields match; mismatched: address.city (expected "Paris", '
                                            'got "Lyon"); missing: address.zip')


@pytest.mark.asyncio
async def test_json_inside_a_fence_or_prose_is_found_and_every_top_level_key_is_compared_by_default():
    fenced = 'Here you go:\n```json\n{"name": "Ann Lee", "age": 41, "address": {"city": "Paris", "zip": "75001"},' \
             ' "tags": ["vip", "eu"]}\n```\nAnything else?'
    assert (await score("json_fields", fenced, {"expected": EXPECTED})).value == 1.0
    prose = 'The record is {"name": "Ann Lee", "age": 40} as requested.'
    result = await score("json_fields", prose, {"expected": EXPECTED})
    assert result.metadata["source"] == "embedded object" and result.value == pytest.approx(1 / 4)
    strict = await score("json_fields", fenced, {"expected": EXPECTED}, allow_fenced=False)
    assert strict.value == 0.0 and strict.metadata["valid_json"] is False


@pytest.mark.asyncio
async def test_list_indices_true_versus_one_and_case_rules_are_respected():
    item = {"expected": {"items": [{"sku": "A1"}, {"sku": "b2"}], "ok": True, "n": 1}}
    output = '{"items": [{"sku": "A1"}, {"sku": "B2"}], "ok": 1, "n": true}'
    result = await score("json_fields", output, item, fields=["items.0.sku", "items.1.sku", "ok", "n"])
    assert result.metadata["matched"] == ["items.0.sku"]
    folded = await score("json_fields", output, item, fields=["items.1.sku"], case_sensitive=False)
    assert folded.value == 1.0
    assert (await score("json_fields", '{"name": "ünï  "}', {"expected": {"name": "ünï"}})).value == 1.0


@pytest.mark.asyncio
async def test_a_non_json_output_scores_zero_but_a_bad_expected_object_is_an_error_on_the_item():
    assert (await score("json_fields", "", {"expected": EXPECTED})).value == 0.0
    assert (await score("json_fields", "[1, 2]", {"expected": EXPECTED})).metadata["missing"] == sorted(EXPECTED)
    assert (await score("json_fields", "{}", {"expected": "Paris"})).error == \
        "the expected value is text that is not JSON"
    assert (await score("json_fields", "{}", {"expected": [1]})).error == \
        "the expected value must be a JSON object, not list"
    assert (await score("json_fields", '{"a": 1}', {"expected": '{"a": 1}'})).value == 1.0
    lacking = await score("json_fields", '{"a": 1}', {"expected": {"a": 1}}, fields=["a", "b.c"])
    assert lacking.error == "the expected object has no field `b.c`"
    assert (await score("json_fields", "{}", {"id": "i1"})).error == \
        "item 'i1' has no expected value (field `expected`)"


def test_fields_must_be_dotted_paths():
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("json_fields", {"fields": ["name", "address city"]})
    assert caught.value.field == "fields.1"
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("json_fields", {"fields": []})
    assert caught.value.field == "fields"

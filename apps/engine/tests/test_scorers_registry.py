"""The scorer registry, shared option checks and the never-crash wrapper."""

from __future__ import annotations

import pytest

from apps.engine.scorers import build_scorer, get_scorer_class, scorer_types, validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScorerError, ScoreResult, ScoringContext, item_reference


def test_an_unknown_type_is_refused_naming_the_type_field():
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("sentiment", {})
    assert caught.value.field == "type"
    assert "known: embedding_similarity" in caught.value.message


def test_options_must_be_an_object():
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("keyword", ["refund"])
    assert caught.value.field == "options"


def test_a_misspelled_option_fails_loudly_naming_it():
    with pytest.raises(OptionsInvalid) as caught:
        validate_scorer_options("keyword", {"keywords": ["a"], "case_sensitve": True})
    assert caught.value.field == "case_sensitve"
    assert "case_sensitive" in caught.value.message


def test_validated_options_are_normalized_with_defaults():
    assert validate_scorer_options("keyword", {"keywords": [" refund ", "refund", "sorry"]}) == {
        "keywords": ["refund", "sorry"], "mode": "all", "case_sensitive": False, "whole_word": False,
    }


def test_only_the_human_scorer_is_not_computed():
    assert [kind for kind in scorer_types() if not get_scorer_class(kind).computed] == ["human"]


def test_the_reference_wins_over_expected_and_non_text_is_json():
    assert item_reference({"reference": "r", "expected": "e"}) == "r"
    assert item_reference({"reference": "", "expected": "e"}) == "e"
    assert item_reference({"expected": {"b": 1, "a": "é"}}) == '{"a": "é", "b": 1}'
    assert item_reference({"input": "x"}) is None


class Exploding(Scorer):
    type = "exploding"

    @classmethod
    def validate_options(cls, options):
        return dict(options)

    async def score(self, ctx):
        if self.options.get("how") == "scorer_error":
            raise ScorerError("cannot score this")
        if self.options.get("how") == "bug":
            raise KeyError("oops")
        return ScoreResult(self.options["value"], {"why": "given"})


@pytest.mark.asyncio
async def test_evaluate_turns_errors_into_failed_results_and_clamps_values(caplog):
    ctx = ScoringContext(item={}, output="x")
    assert (await Exploding({"how": "scorer_error"}).evaluate(ctx)).error == "cannot score this"
    crashed = await Exploding({"how": "bug"}).evaluate(ctx)
    assert crashed.value is None and "exploding scorer crashed: KeyError" in crashed.error
    assert (await Exploding({"value": 1.7}).evaluate(ctx)).value == 1.0
    assert (await Exploding({"value": float("nan")}).evaluate(ctx)).error.startswith("scorer returned a non-finite")


def test_build_scorer_validates_before_returning_a_scorer():
    scorer = build_scorer("length", {"max": 5})
    assert scorer.options["max"] == 5
    with pytest.raises(OptionsInvalid) as caught:
        build_scorer("length", {})
    assert caught.value.field == "max"

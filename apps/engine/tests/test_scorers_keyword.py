"""The keyword scorer: modes, case folding and whole words."""

from __future__ import annotations

import pytest

from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.keyword import KeywordScorer


async def score(output: str, **options):
    return await KeywordScorer(options).evaluate(ScoringContext(item={}, output=output))


@pytest.mark.asyncio
async def test_all_mode_scores_the_fraction_found_and_lists_what_is_missing():
    result = await score("We are sorry; a refund is on its way.", keywords=["sorry", "refund", "voucher", "apology"])
    assert result.value == 0.5
    assert result.metadata == {"mode": "all", "found": ["sorry", "refund"], "missing": ["voucher", "apology"]}


@pytest.mark.asyncio
async def test_any_mode_is_one_if_anything_is_found():
    assert (await score("Refund issued.", keywords=["sorry", "refund"], mode="any")).value == 1.0
    assert (await score("Thanks!", keywords=["sorry", "refund"], mode="any")).value == 0.0


@pytest.mark.asyncio
async def test_none_mode_loses_a_share_per_forbidden_word():
    result = await score("As an AI language model I cannot", keywords=["as an ai", "cannot", "lol", "sorry"],
                         mode="none")
    assert result.value == 0.5
    assert result.metadata["found"] == ["as an ai", "cannot"]
    assert (await score("Fine answer.", keywords=["lol"], mode="none")).value == 1.0


@pytest.mark.asyncio
async def test_matching_ignores_case_with_unicode_folding_unless_case_sensitive():
    assert (await score("Die STRASSE ist lang", keywords=["straße"])).value == 1.0
    assert (await score("ÉCOLE", keywords=["école"])).value == 1.0
    assert (await score("Refund", keywords=["refund"], case_sensitive=True)).value == 0.0


@pytest.mark.asyncio
async def test_whole_word_does_not_match_inside_words_but_handles_symbols():
    assert (await score("the cathedral", keywords=["cat"])).value == 1.0
    assert (await score("the cathedral", keywords=["cat"], whole_word=True)).value == 0.0
    assert (await score("A cat, sat.", keywords=["cat"], whole_word=True)).value == 1.0
    assert (await score("I write C++ daily", keywords=["C++"], whole_word=True)).value == 1.0
    assert (await score("send an e-mail", keywords=["e-mail", "mail"], whole_word=True)).value == 1.0
    assert (await score("snake_case_word", keywords=["case"], whole_word=True)).value == 0.0


@pytest.mark.asyncio
async def test_empty_output_finds_nothing():
    assert (await score("", keywords=["a"])).value == 0.0
    assert (await score("", keywords=["a"], mode="none")).value == 1.0


@pytest.mark.parametrize(("options", "field"), [
    ({}, "keywords"),
    ({"keywords": []}, "keywords"),
    ({"keywords": ["ok", ""]}, "keywords.1"),
    ({"keywords": ["ok", 3]}, "keywords.1"),
    ({"keywords": ["ok"], "mode": "some"}, "mode"),
    ({"keywords": ["ok"], "whole_word": "yes"}, "whole_word"),
])
def test_bad_options_name_the_option(options, field):
    with pytest.raises(OptionsInvalid) as caught:
        KeywordScorer.validate_options(options)
    assert caught.value.field == field

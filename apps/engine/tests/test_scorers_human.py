"""The human scorer: not computed; normalizes thumbs and stars and validates them."""

from __future__ import annotations

import pytest

from apps.engine.scorers.base import OptionsInvalid, ScoringContext
from apps.engine.scorers.human import HumanScorer


def test_thumbs_and_stars_map_to_zero_one():
    human = HumanScorer({})
    assert human.normalize({"thumbs": "up"}) == 1.0
    assert human.normalize({"thumbs": "down"}) == 0.0
    assert [human.normalize({"stars": s}) for s in (1, 2, 3, 4, 5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(("rating", "field"), [
    ({"thumbs": "sideways"}, "thumbs"),
    ({"thumbs": True}, "thumbs"),
    ({"stars": 0}, "stars"),
    ({"stars": 6}, "stars"),
    ({"stars": 3.5}, "stars"),
    ({"stars": "4"}, "stars"),
    ({"stars": True}, "stars"),
    ({}, "stars"),
    ({"thumbs": "up", "stars": 5}, "stars"),
    ({"hearts": 3}, "hearts"),
])
def test_bad_ratings_are_refused_naming_the_field(rating, field):
    with pytest.raises(OptionsInvalid) as caught:
        HumanScorer({}).normalize(rating)
    assert caught.value.field == field


def test_a_scale_accepts_only_its_own_kind_of_rating():
    thumbs = HumanScorer({"scale": "thumbs"})
    with pytest.raises(OptionsInvalid) as caught:
        thumbs.normalize({"stars": 5})
    assert caught.value.field == "stars" and "thumbs ratings" in caught.value.message
    assert HumanScorer({"scale": "stars"}).normalize({"stars": 5.0}) == 1.0
    with pytest.raises(OptionsInvalid):
        HumanScorer({"scale": "likert"})


@pytest.mark.asyncio
async def test_it_is_never_computed_by_the_engine():
    human = HumanScorer({})
    assert human.computed is False
    result = await human.evaluate(ScoringContext(item={}, output="x"))
    assert result.value is None and "entered by people" in result.error

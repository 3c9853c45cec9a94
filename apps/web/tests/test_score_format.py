"""Scores on pages: three decimals, or a dash when an event or run carries none."""

import pytest

from apps.web.templatetags.web_format import score


@pytest.mark.parametrize(("value", "shown"), [(0.12345, "0.123"), (1, "1.000"), ("0.5", "0.500")])
def test_a_score_is_shown_to_three_decimals(value, shown):
    assert score(value) == shown


@pytest.mark.parametrize("value", [None, "", "n/a"])
def test_a_missing_or_unreadable_score_is_shown_as_a_dash_instead_of_breaking_the_page(value):
    assert score(value) == "–"

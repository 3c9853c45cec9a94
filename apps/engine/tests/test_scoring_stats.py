"""Aggregation: mean, std, n, Student's t 95% interval and the weighted score."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.engine.scorers.stats import Summary, summarize, t_critical, weighted_score


def test_a_summary_has_mean_sample_std_and_a_t_interval():
    summary = summarize([0.5, 0.7, 0.9, 0.6])
    assert summary.n == 4
    assert summary.mean == pytest.approx(0.675)
    assert summary.std == pytest.approx(statistics.stdev([0.5, 0.7, 0.9, 0.6]))
    half = 3.182 * summary.std / 2
    assert (summary.ci_low, summary.ci_high) == pytest.approx((0.675 - half, 0.675 + half))


def test_the_interval_is_clamped_to_zero_one():
    summary = summarize([0.0, 1.0, 1.0])
    assert summary.ci_high == 1.0 and summary.ci_low == 0.0


def test_one_value_has_no_spread_and_no_interval():
    assert summarize([0.8]) == Summary(mean=0.8, std=None, n=1, ci_low=None, ci_high=None)


def test_no_values_or_only_errored_ones_give_an_empty_summary():
    assert summarize([]) == Summary(None, None, 0, None, None)
    assert summarize([None, None]) == Summary(None, None, 0, None, None)
    assert summarize([None, 1.0, None, 0.0]).n == 2


def test_identical_values_have_a_zero_width_interval():
    summary = summarize([0.4] * 10)
    assert summary.std == 0.0 and summary.ci_low == summary.ci_high == pytest.approx(0.4)


def test_t_values_come_from_the_table_then_the_normal():
    assert t_critical(1) == 12.706 and t_critical(30) == 2.042
    assert t_critical(35) == 2.042  # between rows: the wider, smaller-df row
    assert t_critical(60) == 2.000 and t_critical(121) == 1.96
    with pytest.raises(ValueError):
        t_critical(0)


def test_a_large_sample_uses_196():
    values = [i % 2 for i in range(200)]
    summary = summarize(values)
    assert summary.ci_high - summary.mean == pytest.approx(1.96 * summary.std / math.sqrt(200))


def test_non_finite_scores_are_refused():
    with pytest.raises(ValueError):
        summarize([0.5, float("nan")])


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=2, max_size=50))
def test_the_interval_always_contains_the_mean_and_stays_in_zero_one(values):
    summary = summarize(values)
    assert 0 <= summary.ci_low <= summary.mean + 1e-12
    assert summary.mean - 1e-12 <= summary.ci_high <= 1


def test_the_weighted_score_renormalizes_over_scorers_with_a_mean():
    means = {"judge": 0.5, "length": 1.0, "webhook": None}
    assert weighted_score(means, {"judge": 1, "length": 3, "webhook": 10}) == pytest.approx(0.875)


def test_errored_scorers_are_left_out_not_counted_as_zero():
    assert weighted_score({"a": 0.8, "b": None}, {"a": 1, "b": 1}) == pytest.approx(0.8)


def test_zero_weights_and_unweighted_names_do_not_count():
    assert weighted_score({"a": 0.2, "b": 0.9, "c": 0.0}, {"a": 0, "b": 2}) == pytest.approx(0.9)


def test_no_weighted_mean_gives_none():
    assert weighted_score({}, {"a": 1}) is None
    assert weighted_score({"a": None}, {"a": 1}) is None
    assert weighted_score({"a": 0.3}, {"a": 0}) is None


def test_summaries_can_be_passed_directly():
    assert weighted_score({"a": summarize([0.2, 0.4]), "b": summarize([])}, {"a": 1, "b": 1}) == pytest.approx(0.3)

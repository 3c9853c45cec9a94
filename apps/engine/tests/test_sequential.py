"""The mSPRT for two success rates: valid under continuous peeking (unlike a fixed-n test), and still powerful."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.engine.sequential import MIN_PER_ARM, TAU2, Look, holm_levels, sequential_compare
from apps.engine.significance import holm_adjusted

ALPHA = 0.05


def cumulative_looks(rate_a: float, rate_b: float, *, streams: int, n: int, every: int, seed: int):
    """Cumulative successes of `streams` simulated A/B tests at every `every` observations per arm."""
    rng = np.random.default_rng(seed)
    at = np.arange(every, n + 1, every)
    successes_a = np.cumsum(rng.random((streams, n)) < rate_a, axis=1)[:, at - 1]
    successes_b = np.cumsum(rng.random((streams, n)) < rate_b, axis=1)[:, at - 1]
    return at, successes_a, successes_b


def looks_of(at, successes_a, successes_b, stream: int, upto: int | None = None) -> list[Look]:
    stop = len(at) if upto is None else upto
    return [Look(int(successes_a[stream, i]), int(at[i]), int(successes_b[stream, i]), int(at[i])) for i in range(stop)]


def naive_z_rejects(at, successes_a, successes_b, stream: int) -> bool:
    """A fixed-n two-proportion z-test (two-sided, 5%) checked at every look: what a dashboard does by default."""
    pooled = (successes_a[stream] + successes_b[stream]) / (2 * at)
    se = np.sqrt(np.maximum(pooled * (1 - pooled) * 2 / at, 1e-12))
    z = np.abs(successes_b[stream] - successes_a[stream]) / at / se
    return bool((z > 1.96).any())


def test_an_aa_test_watched_every_50_requests_rarely_rejects_while_a_naive_z_test_often_does():
    at, successes_a, successes_b = cumulative_looks(0.7, 0.7, streams=300, n=5000, every=50, seed=1)
    sequential = sum(sequential_compare(looks_of(at, successes_a, successes_b, s), alpha=ALPHA).significant
                     for s in range(300))
    naive = sum(naive_z_rejects(at, successes_a, successes_b, s) for s in range(300))
    assert sequential / 300 <= ALPHA + 0.02
    assert naive / 300 >= 0.2  # peeking at a fixed-n test: several times its nominal 5%


def test_a_true_15_point_difference_is_detected_within_a_few_hundred_requests_per_variant():
    at, successes_a, successes_b = cumulative_looks(0.5, 0.65, streams=60, n=1000, every=25, seed=2)
    first_significant = []
    for stream in range(60):
        looks = looks_of(at, successes_a, successes_b, stream)
        first_significant.append(next((looks[k].n_b for k in range(len(looks))
                                       if sequential_compare(looks[:k + 1], alpha=ALPHA).significant), math.inf))
    assert np.median(first_significant) <= 400
    assert sum(n <= 1000 for n in first_significant) >= 57


def test_the_statistic_matches_the_formula_by_hand():
    result = sequential_compare([Look(150, 300, 195, 300)], alpha=ALPHA)
    rate_a, rate_b = 150.5 / 301, 195.5 / 301
    v = rate_a * (1 - rate_a) / 300 + rate_b * (1 - rate_b) / 300
    d = 0.15
    log_lambda = 0.5 * math.log(v / (v + TAU2)) + TAU2 * d * d / (2 * v * (v + TAU2))
    radius = math.sqrt(2 * v * (v + TAU2) / TAU2 * (math.log(1 / ALPHA) + 0.5 * math.log((v + TAU2) / v)))
    assert result.diff == pytest.approx(0.15)
    assert result.p_value == pytest.approx(math.exp(-log_lambda))
    assert (result.ci_low, result.ci_high) == (pytest.approx(d - radius), pytest.approx(d + radius))
    assert result.significant and result.ci_low > 0


def test_the_p_value_never_rises_and_the_interval_never_widens_as_looks_accumulate():
    at, successes_a, successes_b = cumulative_looks(0.6, 0.6, streams=1, n=2000, every=50, seed=3)
    results = [sequential_compare(looks_of(at, successes_a, successes_b, 0, upto=k), alpha=ALPHA)
               for k in range(1, len(at) + 1)]
    assert all(later.p_value <= earlier.p_value for earlier, later in zip(results, results[1:], strict=False))
    assert all(later.ci_high - later.ci_low <= earlier.ci_high - earlier.ci_low + 1e-12
               for earlier, later in zip(results, results[1:], strict=False))


def test_significance_and_an_interval_excluding_zero_agree():
    at, successes_a, successes_b = cumulative_looks(0.5, 0.58, streams=40, n=1500, every=100, seed=4)
    for stream in range(40):
        result = sequential_compare(looks_of(at, successes_a, successes_b, stream), alpha=ALPHA)
        assert result.significant == (result.ci_low > 0 or result.ci_high < 0)


def test_the_interval_covers_the_true_difference_at_every_look_in_most_streams():
    at, successes_a, successes_b = cumulative_looks(0.4, 0.5, streams=200, n=2000, every=100, seed=5)
    missed = 0
    for stream in range(200):  # the interval is intersected over looks: it covers now only if it did at each
        result = sequential_compare(looks_of(at, successes_a, successes_b, stream))
        missed += not result.ci_low <= 0.1 <= result.ci_high
    assert missed / 200 <= ALPHA + 0.02


def test_no_data_or_too_little_gives_p_one_and_the_widest_interval():
    for looks in ([], [Look(3, MIN_PER_ARM - 1, 9, MIN_PER_ARM - 1)]):
        result = sequential_compare(looks)
        assert (result.p_value, result.ci_low, result.ci_high, result.looks) == (1.0, -1.0, 1.0, 0)
        assert not result.significant


def test_all_successes_on_both_sides_is_no_difference():
    result = sequential_compare([Look(500, 500, 500, 500)])
    assert result.diff == 0 and result.p_value == 1.0 and result.ci_low < 0 < result.ci_high


def test_a_worse_variant_is_significant_with_a_negative_interval():
    result = sequential_compare([Look(450, 500, 300, 500)])
    assert result.significant and result.ci_high < 0 and result.diff == pytest.approx(-0.3)


def test_an_early_lead_of_control_then_a_tie_is_not_a_significant_improvement():
    """The review's case: a strong early deficit then a tie. The old code read the direction from the last
    difference (+0.5 points) next to the early look's tiny p-value and called the variant better."""
    result = sequential_compare([Look(100, 100, 60, 100), Look(900, 1000, 905, 1000)])
    assert result.diff == pytest.approx(0.005)
    assert result.direction == "worse" and result.ci_high < 0
    assert result.p_worse < 1e-6 and result.p_better == 1.0 and result.p_value == result.p_worse


def test_an_early_lead_then_a_reversal_is_no_conclusion_either_way():
    result = sequential_compare([Look(60, 100, 100, 100), Look(1000, 1100, 700, 1100)])
    assert result.looks_disagree and result.p_better <= ALPHA and result.p_worse <= ALPHA
    assert result.ci_low < 0 < result.ci_high and not result.significant and result.direction is None


def test_significance_always_agrees_with_the_interval_even_when_the_rates_drift():
    rng = np.random.default_rng(6)
    for _ in range(300):
        looks, sa, na, sb, nb = [], 0, 0, 0, 0
        for _ in range(int(rng.integers(1, 6))):
            step = int(rng.integers(10, 400))
            rate_a, rate_b = rng.random(2)
            na, sa = na + step, sa + int((rng.random(step) < rate_a).sum())
            nb, sb = nb + step, sb + int((rng.random(step) < rate_b).sum())
            looks.append(Look(sa, na, sb, nb))
        result = sequential_compare(looks, alpha=ALPHA)
        assert result.ci_low <= result.ci_high
        assert result.significant == (result.ci_low > 0 or result.ci_high < 0)
        assert (result.direction == "better") <= (result.p_better <= ALPHA)
        assert (result.direction == "worse") <= (result.p_worse <= ALPHA)


def test_holm_levels_agree_with_holm_adjusted_p_values():
    rng = np.random.default_rng(7)
    for _ in range(500):
        p_values = list(rng.random(int(rng.integers(1, 6))) ** 3)
        levels = holm_levels(p_values, alpha=ALPHA)
        for p, p_holm, level in zip(p_values, holm_adjusted(p_values), levels, strict=True):
            assert (p_holm <= ALPHA) == (p <= level) and level <= ALPHA


def test_holm_levels_are_alpha_over_the_remaining_comparisons():
    assert holm_levels([0.001, 0.02, 0.5], alpha=0.05) == [pytest.approx(0.05 / 3), pytest.approx(0.05 / 2),
                                                           pytest.approx(0.05 * 0.5 / 0.5)]
    assert holm_levels([0.3], alpha=0.05) == [0.05]


@pytest.mark.parametrize("alpha", [0, 1, -0.1])
def test_an_alpha_outside_zero_to_one_is_refused(alpha):
    with pytest.raises(ValueError):
        sequential_compare([Look(1, 20, 2, 20)], alpha=alpha)

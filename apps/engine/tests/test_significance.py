"""Paired significance on known cases: McNemar by hand, Wilcoxon, the bootstrap interval, Holm's order."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from apps.engine.config import ConfigInvalid, config_check
from apps.engine.config.stored import stored_scoring
from apps.engine.significance import (
    MCNEMAR,
    NO_TEST,
    WILCOXON,
    holm_adjusted,
    holm_significant,
    paired_compare,
)


def runs(values) -> dict[str, list[float]]:
    return {f"item{i}": [float(v)] for i, v in enumerate(values)}


def noisy(seed: int, n: int = 100, shift: float = 0.0, noise: float = 0.15):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.2, 0.8, n)
    return runs(base), runs(np.clip(base + shift + rng.normal(0, noise, n), 0, 1))


def test_identical_runs_have_no_difference_and_p_one():
    a = runs(np.linspace(0, 1, 40))
    result = paired_compare(a, a, alternative="greater")
    assert result.test == WILCOXON
    assert result.p_value == 1.0
    assert (result.mean_difference, result.ci_low, result.ci_high, result.effect_size) == (0.0, 0.0, 0.0, 0.0)
    assert result.ties == 40 and not result.significant()


def test_a_clear_winner_is_significant_below_one_percent():
    a, b = noisy(seed=1, shift=0.2, noise=0.05)
    result = paired_compare(a, b, alternative="greater")
    assert result.p_value < 0.01 and result.significant()
    assert 0.15 < result.ci_low < result.mean_difference < result.ci_high < 0.25
    assert result.effect_size > 0.9


def test_a_small_noisy_difference_is_not_significant():
    a, b = noisy(seed=2, shift=0.01, noise=0.2)
    result = paired_compare(a, b, alternative="greater")
    assert result.mean_difference > 0
    assert result.p_value > 0.05 and not result.significant()
    assert result.ci_low < 0 < result.ci_high


def test_mcnemar_on_a_hand_computed_table_is_the_exact_binomial_p():
    # 50 items: both pass 20, both fail 18, only b passes 9, only a passes 3.
    a = [1] * 20 + [0] * 18 + [0] * 9 + [1] * 3
    b = [1] * 20 + [0] * 18 + [1] * 9 + [0] * 3
    result = paired_compare(runs(a), runs(b))
    # Two-sided exact: 2 · P(X ≤ 3), X ~ Binomial(12, ½).
    by_hand = 2 * sum(math.comb(12, k) for k in range(4)) / 2**12
    assert result.test == MCNEMAR
    assert (result.b_better, result.a_better, result.ties) == (9, 3, 38)
    assert result.p_value == pytest.approx(by_hand)  # 0.146
    one_sided = paired_compare(runs(a), runs(b), alternative="greater")
    assert one_sided.p_value == pytest.approx(sum(math.comb(12, k) for k in range(9, 13)) / 2**12)
    assert result.effect_size == pytest.approx((9 - 3) / 12)
    assert result.mean_difference == pytest.approx(6 / 50)


def test_pass_fail_runs_with_no_discordant_item_are_not_different():
    a = runs([1, 0, 1, 1, 0])
    result = paired_compare(a, a, alternative="greater")
    assert result.test == MCNEMAR and result.p_value == 1.0


def test_only_items_both_runs_scored_are_paired():
    a = {"x": [0.2], "y": [0.4], "z": [0.9]}
    b = {"y": [0.5], "z": [1.0], "w": [0.0]}
    result = paired_compare(a, b)
    assert result.n == 2 and result.mean_difference == pytest.approx(0.1)
    assert paired_compare({"x": [1.0]}, {"y": [0.0]}).test == NO_TEST


def test_repeats_are_averaged_within_an_item_and_widen_the_interval():
    rng = np.random.default_rng(3)
    base = rng.uniform(0.2, 0.8, 30)
    gain = rng.normal(0.03, 0.1, 30)
    # Three repeats that agree within an item: the item, not the repeat, is the unit of evidence.
    a = {f"i{i}": [base[i]] * 3 for i in range(30)}
    b = {f"i{i}": [float(np.clip(base[i] + gain[i], 0, 1))] * 3 for i in range(30)}
    clustered = paired_compare(a, b)
    flat = paired_compare({f"{k}#{r}": [v] for k, vs in a.items() for r, v in enumerate(vs)},
                          {f"{k}#{r}": [v] for k, vs in b.items() for r, v in enumerate(vs)})
    assert clustered.n == 30 and clustered.repeats == 3 and flat.n == 90
    assert clustered.mean_difference == pytest.approx(flat.mean_difference)
    width = clustered.ci_high - clustered.ci_low
    assert width > 1.5 * (flat.ci_high - flat.ci_low)
    assert clustered.p_value > flat.p_value


def test_pass_fail_repeats_that_disagree_are_compared_as_item_means():
    a = {"x": [1.0, 0.0], "y": [0.0, 0.0], "z": [1.0, 1.0]}
    b = {"x": [1.0, 1.0], "y": [1.0, 0.0], "z": [1.0, 1.0]}
    assert paired_compare(a, b).test == WILCOXON


def test_the_bootstrap_is_seeded_and_reproducible():
    a, b = noisy(seed=4, shift=0.05)
    first, again = paired_compare(a, b), paired_compare(a, b)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    other = paired_compare(a, b, seed=7)
    assert (other.ci_low, other.ci_high) != (first.ci_low, first.ci_high)


def test_holm_adjusts_in_order_of_the_p_values():
    # Sorted 0.005, 0.01, 0.03, 0.04 → × 4, 3, 2, 1 → 0.02, 0.03, 0.06, max(0.06, 0.04).
    assert holm_adjusted([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # Step-down: 0.04 ≤ 0.05 alone, but the smaller 0.03 failed first, so 0.04 is not rejected either.
    assert not holm_significant(0.04, earlier=[0.01, 0.03, 0.005], comparisons=4)
    assert holm_significant(0.01, earlier=[0.005], comparisons=4)
    # Larger p-values that were not kept do not change a small one's threshold.
    assert holm_adjusted([0.005, 0.01], comparisons=4) == pytest.approx([0.02, 0.03])


def test_the_same_p_is_significant_early_in_a_sweep_and_not_after_many_comparisons():
    assert holm_significant(0.02, earlier=[], comparisons=1)
    assert not holm_significant(0.02, earlier=[], comparisons=3)


def test_a_comparison_over_500_items_takes_milliseconds():
    a, b = noisy(seed=5, n=500, shift=0.02)
    paired_compare(a, b)
    started = time.perf_counter()
    for _ in range(5):
        paired_compare(a, b, alternative="greater")
    assert (time.perf_counter() - started) / 5 < 0.1


ENDPOINT = "8c2f9a5e-1111-4222-8333-944445555666"
STAGES = [{"name": "draft", "endpoint": ENDPOINT, "model": "m1", "prompt_template": "Summarize {{ input }}"}]
KEYWORD = {"type": "keyword", "options": {"keywords": ["yes"]}}


def check(scoring_config):
    return config_check({"name": "x", "pipeline_stages": STAGES, "scoring_config": scoring_config},
                        endpoint_ids={ENDPOINT}, max_items=10, max_stages=3, max_template_chars=1000)


def test_the_significance_level_is_an_option_of_the_scoring_config():
    valid = check({"scorers": [KEYWORD], "significance": {"alpha": 0.01}})
    assert valid.fields["scoring_config"]["significance"] == {"alpha": 0.01}
    assert valid.spec.scoring.alpha == 0.01
    assert check({"scorers": [KEYWORD]}).spec.scoring.alpha == 0.05
    assert "significance" not in check({"scorers": []}).fields["scoring_config"]


@pytest.mark.parametrize("significance, path", [
    ({"alpha": 0}, "scoring_config.significance.alpha"),
    ({"alpha": 0.9}, "scoring_config.significance.alpha"),
    ({"alpha": "0.05"}, "scoring_config.significance.alpha"),
    ({"alpha": 0.05, "method": "t"}, "scoring_config.significance.method"),
    (0.05, "scoring_config.significance"),
])
def test_a_bad_significance_level_is_refused_naming_the_field(significance, path):
    with pytest.raises(ConfigInvalid) as refused:
        check({"scorers": [], "significance": significance})
    assert path in refused.value.errors


def test_a_stored_config_with_a_damaged_level_falls_back_to_the_default():
    assert stored_scoring({"scorers": [], "significance": {"alpha": "high"}}).alpha == 0.05
    assert stored_scoring({"scorers": [], "significance": {"alpha": 0.1}}).alpha == 0.1

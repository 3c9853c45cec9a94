"""Wilcoxon with ties or zero differences on a few items: the vectorised exact sign flips equal scipy's answer."""

import warnings

import numpy as np
import pytest
from scipy import stats

from apps.engine.significance import wilcoxon_p


def scipy_p(d: np.ndarray, alternative: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = stats.wilcoxon(d, zero_method="wilcox", alternative=alternative).pvalue
    return 1.0 if not np.isfinite(p) else float(p)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_tied_and_zero_differences_get_scipys_exact_p_value(alternative):
    rng = np.random.default_rng(11)
    for _ in range(60):
        d = rng.choice([0.0, 0.5, 1.0, -0.5, -1.0, 1 / 3, -1 / 3, 0.25], size=int(rng.integers(2, 14)))
        if np.any(d != 0):
            assert wilcoxon_p(d, alternative=alternative) == pytest.approx(scipy_p(d, alternative), abs=1e-12)


def test_a_clear_one_sided_win_on_ten_items_with_ties_is_significant():
    d = np.array([0.5, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.0, 1.0, 0.5])
    assert wilcoxon_p(d, alternative="greater") < 0.01
    assert wilcoxon_p(-d, alternative="greater") == 1.0

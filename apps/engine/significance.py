"""Paired significance between two runs of one experiment: per-item scores in, a verdict out (no ORM).

Runs of one experiment score the same items, so they are compared item by item (docs/significance.md):
- each side's repeats of an item are averaged first, so an item is one observation (clustered by item);
- pass/fail scores (every item mean 0 or 1 on both sides): McNemar's exact test, a binomial test on the
  discordant items;
- anything else: the Wilcoxon signed-rank test on the item differences, zero differences dropped (as
  McNemar drops concordant items);
- both: a seeded, vectorised percentile bootstrap CI of the mean difference (items resampled), and the
  matched-pairs rank-biserial correlation as the effect size ((b wins − a wins) / discordant for
  pass/fail).
Differences are b − a: `alternative="greater"` asks whether b is better than a.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from apps.engine.config.specs import DEFAULT_ALPHA

RESAMPLES = 2000
SEED = 0
CI_LEVEL = 0.95
ALTERNATIVES = ("two-sided", "greater", "less")
# Bootstrap index matrices are built in chunks of at most this many cells (bounded memory at 10⁴ items).
CHUNK_CELLS = 2_000_000

MCNEMAR = "mcnemar_exact"
WILCOXON = "wilcoxon"
NO_TEST = "none"
# Up to this many items, ties or zero differences get the exact sign-flip p-value (what scipy does).
EXACT_SIGN_FLIPS_UP_TO = 13


@dataclass(frozen=True)
class Comparison:
    test: str  # MCNEMAR, WILCOXON, or NO_TEST when there is nothing to pair
    alternative: str
    p_value: float
    n: int  # items scored by both runs
    repeats: int  # most observations of one item on either side (> 1: the item means were compared)
    mean_a: float | None
    mean_b: float | None
    mean_difference: float | None  # b − a over the paired items
    ci_low: float | None  # 95% bootstrap interval of the mean difference
    ci_high: float | None
    effect_size: float | None  # matched-pairs rank-biserial in [-1, 1], positive when b is better
    b_better: int  # items where b scored higher
    a_better: int
    ties: int  # items with equal scores

    def significant(self, alpha: float = DEFAULT_ALPHA) -> bool:
        return self.test != NO_TEST and self.p_value <= alpha

    def as_dict(self) -> dict:
        return {key: (round(value, 6) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def _means(values: Mapping[str, Sequence[float]], keys: list[str]) -> np.ndarray:
    return np.array([math.fsum(values[key]) / len(values[key]) for key in keys], dtype=float)


def paired_compare(a: Mapping[str, Sequence[float]], b: Mapping[str, Sequence[float]], *,
                   alternative: str = "two-sided", bootstrap: bool = True, resamples: int = RESAMPLES,
                   seed: int = SEED) -> Comparison:
    """Compare run b with run a on the items both scored (`{item_id: [score of each repeat]}` per run)."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}")
    keys = sorted(key for key in a.keys() & b.keys() if a[key] and b[key])
    repeats = max((max(len(a[key]), len(b[key])) for key in keys), default=0)
    if not keys:
        return Comparison(NO_TEST, alternative, 1.0, 0, 0, None, None, None, None, None, None, 0, 0, 0)
    xa, xb = _means(a, keys), _means(b, keys)
    # Rounded so that equal configurations give exact zeros, whatever the float noise of averaging.
    d = np.round(xb - xa, 12)
    binary = bool(np.isin(xa, (0.0, 1.0)).all() and np.isin(xb, (0.0, 1.0)).all())
    b_better, a_better = int((d > 0).sum()), int((d < 0).sum())
    if binary:
        test, p = MCNEMAR, mcnemar_exact(b_better, a_better, alternative=alternative)
    else:
        test, p = WILCOXON, wilcoxon_p(d, alternative=alternative)
    low, high = bootstrap_ci(d, resamples=resamples, seed=seed) if bootstrap else (None, None)
    return Comparison(
        test=test, alternative=alternative, p_value=p, n=len(keys), repeats=repeats,
        mean_a=float(xa.mean()), mean_b=float(xb.mean()), mean_difference=float(d.mean()),
        ci_low=low, ci_high=high, effect_size=rank_biserial(d),
        b_better=b_better, a_better=a_better, ties=len(keys) - b_better - a_better,
    )


def mcnemar_exact(b_better: int, a_better: int, *, alternative: str = "two-sided") -> float:
    """McNemar's exact test: under H0 each discordant item favours b with probability ½."""
    discordant = b_better + a_better
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(b_better, discordant, 0.5, alternative=alternative).pvalue)


def wilcoxon_p(d: np.ndarray, *, alternative: str = "two-sided") -> float:
    """Wilcoxon signed-rank p-value of the differences; 1.0 when every difference is zero."""
    if not np.any(d != 0):
        return 1.0
    nonzero = d[d != 0]
    if d.size <= EXACT_SIGN_FLIPS_UP_TO and (nonzero.size < d.size or np.unique(np.abs(nonzero)).size < nonzero.size):
        return _signed_rank_sign_flips(nonzero, alternative=alternative)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy warns on tiny samples; the p-value stands
        p = stats.wilcoxon(d, zero_method="wilcox", alternative=alternative).pvalue
    return 1.0 if not math.isfinite(p) else float(p)


def _signed_rank_sign_flips(nonzero: np.ndarray, *, alternative: str) -> float:
    """The exact p-value over every sign flip of the nonzero differences, as scipy's `wilcoxon` computes it
    for ties or zeros at n <= 13 (a permutation test), but vectorised: scipy's loops in Python, ~130 ms a test."""
    ranks = stats.rankdata(np.abs(nonzero))
    observed = float(ranks[nonzero > 0].sum())
    flips = (np.arange(2 ** nonzero.size)[:, None] >> np.arange(nonzero.size)) & 1
    null = flips @ ranks
    gamma = abs(np.finfo(float).eps * 100 * observed)  # scipy's tolerance for numerically equal statistics
    greater = float(np.count_nonzero(null >= observed - gamma)) / null.size
    less = float(np.count_nonzero(null <= observed + gamma)) / null.size
    p = {"greater": greater, "less": less}.get(alternative, 2 * min(greater, less))
    return min(1.0, p)


def rank_biserial(d: np.ndarray) -> float | None:
    """Matched-pairs rank-biserial correlation: (rank sum of b's wins − a's) / total rank sum."""
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 0.0 if d.size else None
    ranks = stats.rankdata(np.abs(nonzero))
    return float((ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()) / ranks.sum())


def bootstrap_ci(d: np.ndarray, *, resamples: int = RESAMPLES, seed: int = SEED,
                 level: float = CI_LEVEL) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the mean of `d`, resampling its entries (items) with replacement."""
    n = d.size
    if n < 2:
        return None, None
    rng = np.random.default_rng(seed)
    chunk = max(1, CHUNK_CELLS // n)
    means = np.concatenate([d[rng.integers(0, n, size=(min(chunk, resamples - start), n))].mean(axis=1)
                            for start in range(0, resamples, chunk)])
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def holm_adjusted(p_values: Sequence[float], *, comparisons: int | None = None) -> list[float]:
    """Holm-adjusted p-values, in the input order, over `comparisons` tests (default: len(p_values)).

    `comparisons` may exceed the values given when only the smallest p-values were kept: larger ones
    sort after them and cannot change their adjustment.
    """
    m = len(p_values) if comparisons is None else comparisons
    if m < len(p_values):
        raise ValueError("comparisons cannot be fewer than the p-values given")
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def holm_significant(p: float, *, earlier: Sequence[float], comparisons: int, alpha: float = DEFAULT_ALPHA) -> bool:
    """Whether `p`, the latest of `comparisons` tests (earlier ones' small p-values in `earlier`), survives Holm."""
    return holm_adjusted([*earlier, p], comparisons=comparisons)[-1] <= alpha

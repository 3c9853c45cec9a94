"""Aggregating per-item scores into a run's summary and weighted score.

`summarize` gives the mean, sample standard deviation (n − 1), n and a two-sided 95% confidence
interval for the mean, mean ± t·s/√n with Student's t for n − 1 degrees of freedom, clamped to
[0, 1]. With n = 1 there is no spread to estimate, so std and the interval are None (not a
zero-width interval that would look certain); with n = 0 everything but n is None. Degrees of
freedom between table rows use the next smaller row (slightly wider, never narrower); beyond 120
the normal 1.96 is used. Errored scores (None) are skipped; the caller counts them separately.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Two-sided 95% critical values of Student's t, for 1–30 degrees of freedom, then 40, 60 and 120.
T_95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}
Z_95 = 1.96


@dataclass(frozen=True)
class Summary:
    mean: float | None
    std: float | None
    n: int
    ci_low: float | None
    ci_high: float | None


def t_critical(df: int) -> float:
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df > 120:
        return Z_95
    return T_95[max(row for row in T_95 if row <= df)]


def summarize(values: Iterable[float | None]) -> Summary:
    """Mean, std, n and 95% CI of the scores that have a value."""
    xs = [float(v) for v in values if v is not None]
    if any(not math.isfinite(x) for x in xs):
        raise ValueError("scores must be finite numbers")
    n = len(xs)
    if n == 0:
        return Summary(None, None, 0, None, None)
    mean = math.fsum(xs) / n
    if n == 1:
        return Summary(mean, None, 1, None, None)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_critical(n - 1) * std / math.sqrt(n)
    return Summary(mean, std, n, max(0.0, mean - half), min(1.0, mean + half))


def weighted_score(means: Mapping[str, float | Summary | None], weights: Mapping[str, float]) -> float | None:
    """The weighted mean of the scorers that have a mean, weights renormalized over them.

    A scorer with no mean (no values, or all errored) is left out rather than counted as 0; a
    scorer missing from `weights` has weight 0. None when no weighted scorer has a mean.
    """
    total = weight_sum = 0.0
    for name, mean in means.items():
        if isinstance(mean, Summary):
            mean = mean.mean
        weight = float(weights.get(name, 0.0))
        if mean is None or weight <= 0 or not math.isfinite(mean):
            continue
        total += weight * mean
        weight_sum += weight
    if weight_sum == 0:
        return None
    return min(1.0, max(0.0, total / weight_sum))

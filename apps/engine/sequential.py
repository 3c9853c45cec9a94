"""Always-valid inference for the difference of two success rates: the mixture SPRT (no ORM).

An A/B test's metrics are watched continuously, so a fixed-n test peeked at every refresh rejects far
more often than its alpha. The mSPRT of Johari, Pekelis & Walsh ("Always valid inference: continuous
monitoring of A/B tests", Operations Research 2022; the method of Optimizely's stats engine) stays valid
at any stopping time. For the difference θ = p_b − p_a with estimate d and variance v = σ²_a/n_a + σ²_b/n_b,
mixing the likelihood ratio over θ ~ N(0, τ²) gives (docs/decisions.md)

    Λ = sqrt(v / (v + τ²)) · exp(τ² d² / (2 v (v + τ²)))

By Ville's inequality P(Λ ever ≥ 1/α | θ = 0) ≤ α, so p = min over looks of min(1, 1/Λ) is an always-valid
p-value, and the θ where the shifted statistic stays below 1/α form the matching confidence sequence:

    |d − θ| ≤ sqrt(2 v (v + τ²) / τ² · (log(1/α) + ½ log((v + τ²) / v)))

intersected over looks. A look's interval excludes 0 exactly when its 1/Λ ≤ α, on the side of its d, so
the direction is read from the confidence sequence, never from the last look alone: `p_better` is the
running minimum of 1/Λ over the looks where the variant led, `p_worse` over those where it trailed, and the
two-sided `p_value` is the smaller. `significant` means the interval excludes 0 (better: ci_low > 0).

When the looks contradict each other (the intersection is empty: possible with probability ≤ α under a
constant difference, more often when the rates drift), the interval reported is the narrowest one meeting
every look's interval, [min of the upper ends, max of the lower ends], and `looks_disagree` is set; that
interval contains 0 exactly when looks excluded 0 on both sides, and then nothing is significant. Variances are plug-in
estimates from rates shrunk by half a success (never zero), and looks with fewer than MIN_PER_ARM
observations in either arm are skipped (the normal approximation means nothing there).

`holm_levels` gives each of several comparisons its Holm-adjusted level, at which its interval is computed
so that interval and Holm significance agree.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

# The mixing variance on θ, in rate units: τ = 0.1 tunes the test to differences of about 10 points,
# the size a prompt change that matters tends to have; smaller effects are still found, later.
TAU2 = 0.01
MIN_PER_ARM = 10


@dataclass(frozen=True)
class Look:
    """Cumulative counts at one moment: successes and observations of control (a) and variant (b)."""

    successes_a: int
    n_a: int
    successes_b: int
    n_b: int


@dataclass(frozen=True)
class SequentialComparison:
    n_a: int
    n_b: int
    rate_a: float | None
    rate_b: float | None
    diff: float | None  # rate_b − rate_a at the last look, in rate units
    ci_low: float  # the always-valid (1 − alpha) confidence sequence of the difference, intersected
    ci_high: float
    p_value: float  # always-valid, two-sided: min(p_better, p_worse)
    alpha: float
    looks: int  # looks with enough data to count
    p_better: float = 1.0  # always-valid, one-sided: the running minimum over the looks where b led
    p_worse: float = 1.0  # ... where b trailed
    looks_disagree: bool = False  # looks' intervals have no common point (reported: the narrowest meeting all)

    @property
    def direction(self) -> str | None:
        """"better" when the interval lies above 0, "worse" below, None when it contains 0."""
        if self.ci_low > 0:
            return "better"
        return "worse" if self.ci_high < 0 else None

    @property
    def significant(self) -> bool:
        return self.direction is not None

    def as_dict(self) -> dict:
        return asdict(self)


def sequential_compare(looks: Sequence[Look], *, alpha: float = 0.05, tau2: float = TAU2) -> SequentialComparison:
    """Compare variant b with control a over cumulative looks in time order; the last look is "now"."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    if tau2 <= 0:
        raise ValueError("tau2 must be positive")
    last = looks[-1] if looks else Look(0, 0, 0, 0)
    rate_a = last.successes_a / last.n_a if last.n_a else None
    rate_b = last.successes_b / last.n_b if last.n_b else None
    diff = rate_b - rate_a if rate_a is not None and rate_b is not None else None
    counts = np.array([(look.successes_a, look.n_a, look.successes_b, look.n_b) for look in looks
                       if look.n_a >= MIN_PER_ARM and look.n_b >= MIN_PER_ARM], dtype=float).reshape(-1, 4)
    if not counts.size:
        return SequentialComparison(last.n_a, last.n_b, rate_a, rate_b, diff, -1.0, 1.0, 1.0, alpha, 0)
    sa, na, sb, nb = counts.T
    d = sb / nb - sa / na
    v = _variance(sa, na) + _variance(sb, nb)
    log_lambda = 0.5 * np.log(v / (v + tau2)) + tau2 * d**2 / (2 * v * (v + tau2))
    p_better, p_worse = _running_p(log_lambda[d > 0]), _running_p(log_lambda[d < 0])
    radius = np.sqrt(2 * v * (v + tau2) / tau2 * (math.log(1 / alpha) + 0.5 * np.log((v + tau2) / v)))
    low, high = float((d - radius).max()), float((d + radius).min())
    disagree = low > high  # the narrowest interval meeting every look's: contains 0 iff they excluded it both ways
    low, high = min(low, high), max(low, high)
    return SequentialComparison(last.n_a, last.n_b, rate_a, rate_b, diff, max(-1.0, low), min(1.0, high),
                                min(p_better, p_worse), alpha, len(counts), p_better, p_worse, disagree)


def holm_levels(p_values: Sequence[float], *, alpha: float) -> list[float]:
    """Per comparison (input order), the level its interval is computed at so that it agrees with Holm.

    Holm's step-down tests the k-th smallest of m p-values at alpha / (m − k + 1) while every smaller one
    passed its own; that is the level given. Past the first failure a comparison gets alpha · p / p_holm
    (below its p: its interval keeps 0, as Holm keeps its null). So p_holm ≤ alpha exactly when p ≤ level.
    """
    m = len(p_values)
    levels = [alpha] * m
    running, stopped = 0.0, False
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        p = p_values[index]
        running = max(running, min(1.0, (m - rank) * p))
        stopped = stopped or p > alpha / (m - rank)
        levels[index] = min(alpha, alpha * p / running) if stopped else alpha / (m - rank)
    return levels


def _running_p(log_lambda: np.ndarray) -> float:
    return float(min(1.0, math.exp(-float(log_lambda.max())))) if log_lambda.size else 1.0


def _variance(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    rate = (successes + 0.5) / (n + 1)
    return rate * (1 - rate) / n

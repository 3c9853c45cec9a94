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
interval contains 0 exactly when looks excluded 0 on both sides, and then nothing is significant.

Variances are per arm. Traffic is split per session, and one session's requests are correlated (one user's
bad session fails ten times), so an arm's variance is cluster-robust by session when the look carries its
`SessionSums`: with p̂ = Σ ok_s / N (N = Σ n_s over G sessions) the robust variance is
G/(G − 1) · Σ (ok_s − p̂ n_s)² / N², and its ratio to what the same formula gives when every request is its
own session (N/(N − 1) · p̂(1 − p̂)/N) is the design effect. The variance used is the binomial one from the
rate shrunk by half a success (never zero) times max(1, design effect): never below today's binomial
variance, and exactly it when every session has one request (or the look has no session sums). Looks with
fewer than MIN_PER_ARM observations or MIN_SESSIONS sessions in either arm are skipped (the normal
approximation means nothing there).

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
# A cluster-robust variance from a handful of sessions is itself too noisy to trust; with one request per
# session this is MIN_PER_ARM again, so independent traffic is looked at exactly as before.
MIN_SESSIONS = 10


@dataclass(frozen=True)
class SessionSums:
    """One arm's session sums at a look: G sessions, Σ n_s², Σ ok_s·n_s, Σ ok_s² (n_s requests, ok_s successes)."""

    sessions: int
    n2: int
    ok_n: int
    ok2: int

    @classmethod
    def independent(cls, successes: int, n: int) -> SessionSums:
        """Every request its own session."""
        return cls(n, n, successes, successes)


@dataclass(frozen=True)
class Look:
    """Cumulative counts at one moment: successes and observations of control (a) and variant (b).

    Without `sessions_a` / `sessions_b` every observation is taken as independent (its own session).
    """

    successes_a: int
    n_a: int
    successes_b: int
    n_b: int
    sessions_a: SessionSums | None = None
    sessions_b: SessionSums | None = None

    def arm_sums(self) -> tuple[SessionSums, SessionSums]:
        return (self.sessions_a or SessionSums.independent(self.successes_a, self.n_a),
                self.sessions_b or SessionSums.independent(self.successes_b, self.n_b))


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
    rows = []
    for look in looks:
        sums_a, sums_b = look.arm_sums()
        if min(look.n_a, look.n_b) >= MIN_PER_ARM and min(sums_a.sessions, sums_b.sessions) >= MIN_SESSIONS:
            rows.append((look.successes_a, look.n_a, *_fields(sums_a), look.successes_b, look.n_b, *_fields(sums_b)))
    counts = np.array(rows, dtype=float).reshape(-1, 12)
    if not counts.size:
        return SequentialComparison(last.n_a, last.n_b, rate_a, rate_b, diff, -1.0, 1.0, 1.0, alpha, 0)
    arm_a, arm_b = counts[:, :6].T, counts[:, 6:].T
    d = arm_b[0] / arm_b[1] - arm_a[0] / arm_a[1]
    v = _variance(*arm_a) + _variance(*arm_b)
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


def _fields(sums: SessionSums) -> tuple[int, int, int, int]:
    return sums.sessions, sums.n2, sums.ok_n, sums.ok2


def _variance(successes: np.ndarray, n: np.ndarray, sessions: np.ndarray, n2: np.ndarray, ok_n: np.ndarray,
              ok2: np.ndarray) -> np.ndarray:
    """The shrunk binomial variance of the arm's rate times its design effect by session (at least 1)."""
    rate = (successes + 0.5) / (n + 1)
    p = successes / n
    # Σ (ok_s − p n_s)² expanded over the cumulative sums; an arm that all succeeded (or failed) has no
    # spread to measure, and its shrunk binomial variance stands.
    clustered = sessions / (sessions - 1) * np.maximum(ok2 - 2 * p * ok_n + p * p * n2, 0.0)
    independent = n / (n - 1) * (successes - successes * p)
    design_effect = np.divide(clustered, independent, out=np.ones_like(n), where=independent > 0)
    return rate * (1 - rate) / n * np.maximum(design_effect, 1.0)

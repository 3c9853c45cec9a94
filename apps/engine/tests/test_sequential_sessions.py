"""The mSPRT with a session-robust variance: valid when a session's requests are correlated, unchanged when not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.engine.sequential import MIN_SESSIONS, TAU2, Look, SessionSums, sequential_compare
from apps.engine.tests.test_sequential import cumulative_looks

ALPHA = 0.05


def correlated_arm(rng, *, sessions: int, mean: float, concentration: float):
    """Sessions of 1–40 requests, each with its own success probability drawn from a Beta around `mean`."""
    sizes = rng.integers(1, 41, sessions)
    probability = rng.beta(mean * concentration, (1 - mean) * concentration, sessions)
    return sizes, rng.binomial(sizes, probability)


def session_looks(arm_a, arm_b, *, every: int) -> tuple[list[Look], list[Look]]:
    """Cumulative looks after every `every` sessions per arm: request counts only, and with the session sums."""
    (n_a, ok_a), (n_b, ok_b) = arm_a, arm_b
    cumulative = [np.cumsum(values)[every - 1::every] for values in
                  (ok_a, n_a, n_a * n_a, ok_a * n_a, ok_a * ok_a, ok_b, n_b, n_b * n_b, ok_b * n_b, ok_b * ok_b)]
    counted = np.arange(every, len(n_a) + 1, every)
    by_request, by_session = [], []
    for k, (sa, na, n2a, okna, ok2a, sb, nb, n2b, oknb, ok2b) in enumerate(zip(*cumulative, strict=True)):
        by_request.append(Look(int(sa), int(na), int(sb), int(nb)))
        by_session.append(Look(int(sa), int(na), int(sb), int(nb),
                               SessionSums(int(counted[k]), int(n2a), int(okna), int(ok2a)),
                               SessionSums(int(counted[k]), int(n2b), int(oknb), int(ok2b))))
    return by_request, by_session


def test_an_aa_test_with_correlated_sessions_fools_the_request_level_test_but_not_the_session_robust_one():
    rng = np.random.default_rng(11)
    streams, request_level, session_robust = 200, 0, 0
    for _ in range(streams):
        arm_a = correlated_arm(rng, sessions=300, mean=0.7, concentration=2)
        arm_b = correlated_arm(rng, sessions=300, mean=0.7, concentration=2)
        by_request, by_session = session_looks(arm_a, arm_b, every=10)  # 30 looks, each one checked
        request_level += sequential_compare(by_request, alpha=ALPHA).significant
        session_robust += sequential_compare(by_session, alpha=ALPHA).significant
    assert request_level / streams >= 0.5  # measured 0.81: ten times its nominal 5%
    assert session_robust / streams <= ALPHA + 0.01  # measured 0.04


def test_with_one_request_per_session_the_p_values_and_intervals_are_todays():
    at, successes_a, successes_b = cumulative_looks(0.6, 0.66, streams=30, n=1500, every=50, seed=21)
    for stream in range(30):
        plain, singletons = [], []
        for i, n in enumerate(at):
            sa, sb = int(successes_a[stream, i]), int(successes_b[stream, i])
            plain.append(Look(sa, int(n), sb, int(n)))
            singletons.append(Look(sa, int(n), sb, int(n), SessionSums(int(n), int(n), sa, sa),
                                   SessionSums(int(n), int(n), sb, sb)))
        today, robust = sequential_compare(plain, alpha=ALPHA), sequential_compare(singletons, alpha=ALPHA)
        assert robust.p_value == pytest.approx(today.p_value, rel=1e-9, abs=1e-12)
        assert (robust.ci_low, robust.ci_high) == (pytest.approx(today.ci_low), pytest.approx(today.ci_high))
        assert robust.significant == today.significant and robust.looks == today.looks


def test_the_session_robust_variance_matches_the_formula_by_hand():
    """Control: 20 sessions of 10 requests, 10 of them all successes and 10 half; the variant independent."""
    ok_a = np.array([10] * 10 + [5] * 10)
    n_a = np.full(20, 10)
    sums_a = SessionSums(20, int((n_a * n_a).sum()), int((ok_a * n_a).sum()), int((ok_a * ok_a).sum()))
    result = sequential_compare([Look(150, 200, 100, 200, sums_a, None)], alpha=ALPHA)
    p = 150 / 200
    clustered = 20 / 19 * ((ok_a - p * n_a) ** 2).sum() / 200**2
    design_effect = clustered / (200 / 199 * p * (1 - p) / 200)
    rate_a, rate_b = 150.5 / 201, 100.5 / 201
    v = rate_a * (1 - rate_a) / 200 * design_effect + rate_b * (1 - rate_b) / 200
    log_lambda = 0.5 * math.log(v / (v + TAU2)) + TAU2 * 0.25**2 / (2 * v * (v + TAU2))
    assert design_effect > 1
    assert result.p_value == pytest.approx(math.exp(-log_lambda))


def test_sessions_more_alike_than_chance_never_make_the_test_more_eager_than_the_binomial_one():
    """Every session one success and one failure: the robust variance is 0, the binomial one is kept."""
    balanced = Look(100, 200, 130, 200, SessionSums(100, 400, 200, 100), SessionSums(100, 400, 260, 190))
    plain = Look(100, 200, 130, 200)
    assert sequential_compare([balanced]).p_value == pytest.approx(sequential_compare([plain]).p_value)


def test_a_difference_carried_by_one_session_is_not_significant():
    """The variant's 80 extra failures all come from one session: 23 points worse by request, one user by session."""
    control = SessionSums(200, 200, 160, 160)
    variant = SessionSums(201, 200 + 80 * 80, 160, 160)
    by_request = sequential_compare([Look(160, 200, 160, 280)])
    by_session = sequential_compare([Look(160, 200, 160, 280, control, variant)])
    assert by_request.significant and by_request.direction == "worse"
    assert not by_session.significant and by_session.ci_low < 0 < by_session.ci_high


def test_looks_with_too_few_sessions_are_not_counted():
    few = SessionSums(MIN_SESSIONS - 1, 9 * 40 * 40, 9 * 20 * 40, 9 * 20 * 20)
    result = sequential_compare([Look(180, 360, 300, 360, few, SessionSums.independent(300, 360))])
    assert (result.looks, result.p_value, result.significant) == (0, 1.0, False)

"""Per-variant A/B metrics from GatewayRequest rows: the numbers, the comparison with control, and the cost."""

import datetime

import pytest
from django.utils import timezone

from apps.deployments.models import GatewayRequest
from apps.deployments.selectors.abtests import ab_test_metrics
from apps.deployments.services.abtests import ab_test_start
from apps.deployments.tests.ab_builders import ab_setup, add_requests, arms


def test_each_variant_gets_its_counts_rates_latency_cost_and_feedback(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 4, successes=3, latency_ms=1000, cost="0.002", helpful=[True, False, None, None])
    add_requests(variant, 2, successes=1, latency_ms=500, cost="0.001", helpful=[True])
    add_requests(variant, 2, successes=2, latency_ms=700, cost="0.003")
    first, second = ab_test_metrics(ab_test=ab_test)
    assert first == {
        "variant_id": str(control.pk), "variant_name": "Control", "version_id": str(control.version_id),
        "version_number": 1, "is_control": True, "weight": 1,
        "total_requests": 4, "sessions": 4, "successful_requests": 3, "failed_requests": 1, "success_rate": 75.0,
        "avg_latency_ms": 1000.0, "avg_cost_usd": 0.002, "total_cost_usd": 0.008,
        "feedback_count": 2, "feedback_rate": 50.0, "helpful_rate": 50.0,
        "diff": None, "ci_low": None, "ci_high": None, "ci_level": None, "p_value": None, "p_adjusted": None,
        "significant": False, "direction": None, "looks_disagree": False,
    }
    assert (second["variant_name"], second["is_control"], second["version_number"]) == ("Variant B", False, 2)
    assert (second["total_requests"], second["successful_requests"], second["failed_requests"]) == (4, 3, 1)
    assert second["sessions"] == 2  # both batches used sessions s0 and s1
    assert (second["avg_latency_ms"], second["avg_cost_usd"], second["total_cost_usd"]) == (600.0, 0.002, 0.008)
    assert (second["feedback_count"], second["feedback_rate"], second["helpful_rate"]) == (1, 25.0, 100.0)
    assert second["diff"] == 0.0 and second["p_value"] == 1.0 and second["significant"] is False


def test_a_variant_without_requests_still_appears_with_zeros(owner):
    ab_test = ab_setup(owner)
    add_requests(arms(ab_test)[0], 5, successes=5)
    _, empty = ab_test_metrics(ab_test=ab_test)
    assert {key: empty[key] for key in ("total_requests", "successful_requests", "success_rate", "avg_latency_ms",
                                        "avg_cost_usd", "total_cost_usd", "feedback_rate", "helpful_rate")} == {
        "total_requests": 0, "successful_requests": 0, "success_rate": 0.0, "avg_latency_ms": 0.0,
        "avg_cost_usd": 0.0, "total_cost_usd": 0.0, "feedback_rate": 0.0, "helpful_rate": 0.0}
    assert (empty["p_value"], empty["ci_low"], empty["ci_high"]) == (1.0, -100.0, 100.0)


def test_requests_of_other_tests_and_outside_any_test_are_not_counted(owner):
    ab_test = ab_setup(owner)
    other = ab_setup(owner, deployment_name="sales-bot")
    add_requests(arms(ab_test)[0], 3, successes=3)
    add_requests(arms(other)[0], 7, successes=0)
    GatewayRequest.objects.create(deployment=ab_test.deployment, model="fake-chat", status_code=200, success=True,
                                  created_at=timezone.now())
    assert [row["total_requests"] for row in ab_test_metrics(ab_test=ab_test)] == [3, 0]


def test_a_clear_difference_shows_in_points_with_an_interval_and_is_significant(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 400, successes=200)
    add_requests(variant, 400, successes=280)
    _, row = ab_test_metrics(ab_test=ab_test)
    assert row["diff"] == 20.0
    assert 0 < row["ci_low"] < 20 < row["ci_high"] < 40
    assert row["p_value"] < 0.001 and row["significant"] is True


def test_a_small_difference_is_not_significant_yet(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 100, successes=50)
    add_requests(variant, 100, successes=56)
    _, row = ab_test_metrics(ab_test=ab_test)
    assert row["diff"] == 6.0 and row["ci_low"] < 0 < row["ci_high"]
    assert row["p_value"] > 0.05 and row["significant"] is False


def test_significance_once_reached_is_not_lost_when_later_traffic_evens_out(owner):
    """The p-value is the running minimum over each minute's look, so watching cannot make it flicker."""
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    earlier = timezone.now() - datetime.timedelta(minutes=10)
    add_requests(control, 300, successes=90, at=earlier)
    add_requests(variant, 300, successes=240, at=earlier)
    add_requests(control, 300, successes=290)
    add_requests(variant, 300, successes=140)
    _, row = ab_test_metrics(ab_test=ab_test)
    assert row["diff"] == 0.0
    assert row["significant"] is True and row["p_value"] < 0.001


def test_with_two_challengers_the_p_values_are_holm_adjusted(owner):
    ab_test = ab_setup(owner, variants=3)
    control, b, c = arms(ab_test)
    add_requests(control, 300, successes=150)
    add_requests(b, 300, successes=185)
    add_requests(c, 300, successes=150)
    _, row_b, row_c = ab_test_metrics(ab_test=ab_test)
    assert row_b["p_adjusted"] == pytest.approx(min(1.0, 2 * row_b["p_value"]), rel=1e-3)
    assert row_c["p_adjusted"] == 1.0


def test_metrics_take_two_queries_however_many_requests(owner, django_assert_num_queries):
    ab_test = ab_setup(owner, variants=3)
    for variant in arms(ab_test):
        add_requests(variant, 200, successes=100)
    ab_test_start(ab_test=ab_test)
    with django_assert_num_queries(2):
        rows = ab_test_metrics(ab_test=ab_test)
    assert [row["total_requests"] for row in rows] == [200, 200, 200]


def test_with_two_challengers_each_interval_is_at_its_holm_level_and_agrees_with_significance(owner):
    """B's raw p is about 0.037: its interval at alpha = 0.05 excludes 0, but Holm over two comparisons
    does not reject; the interval shown is the one at B's Holm level (0.025) and so contains 0."""
    ab_test = ab_setup(owner, variants=3)
    control, b, c = arms(ab_test)
    add_requests(control, 300, successes=150)
    add_requests(b, 300, successes=188)
    add_requests(c, 300, successes=150)
    _, row_b, row_c = ab_test_metrics(ab_test=ab_test)
    assert 0.025 < row_b["p_value"] < 0.05 and row_b["p_adjusted"] > 0.05
    assert row_b["ci_level"] == 0.025 and row_b["ci_low"] < 0 < row_b["ci_high"]
    assert row_b["significant"] is False and row_b["direction"] is None
    assert row_c["ci_level"] == pytest.approx(0.05)
    for row in (row_b, row_c):
        assert row["significant"] == (row["ci_low"] > 0 or row["ci_high"] < 0)


def test_a_significant_challenger_has_a_positive_interval_at_its_holm_level(owner):
    ab_test = ab_setup(owner, variants=3)
    control, b, c = arms(ab_test)
    add_requests(control, 400, successes=160)
    add_requests(b, 400, successes=280)
    add_requests(c, 400, successes=165)
    _, row_b, _ = ab_test_metrics(ab_test=ab_test)
    assert row_b["ci_level"] == 0.025 and row_b["ci_low"] > 0 and row_b["significant"] is True
    assert row_b["direction"] == "better"

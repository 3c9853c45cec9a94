"""A/B metrics count sessions, not requests, as the independent units: one bad session is one unlucky user."""

import datetime
from decimal import Decimal

from django.utils import timezone

from apps.deployments.models import AbTest, AbVariant, GatewayRequest, PromptVersion
from apps.deployments.selectors.abtests import ab_test_metrics
from apps.deployments.services.abtests import ab_test_complete, ab_test_start
from apps.deployments.tests.ab_builders import ab_setup, add_requests, arms
from apps.engine.sequential import Look, sequential_compare


def add_session(variant: AbVariant, session_id: str, outcomes: list[bool], *,
                at: datetime.datetime | None = None) -> None:
    """One session's requests routed to `variant`, one a minute from `at` (now by default)."""
    at = at or timezone.now()
    test = variant.ab_test
    GatewayRequest.objects.bulk_create([
        GatewayRequest(deployment_id=test.deployment_id, version_id=variant.version_id, ab_test=test, variant=variant,
                       session_id=session_id, model="fake-chat", status_code=200, success=ok, latency_ms=1000,
                       cost_usd=Decimal("0.001"), created_at=at + datetime.timedelta(minutes=i))
        for i, ok in enumerate(outcomes)])


def request_level(control: dict, variant: dict):
    """What the metrics said before sessions counted: every request an independent trial."""
    return sequential_compare([Look(control["successful_requests"], control["total_requests"],
                                    variant["successful_requests"], variant["total_requests"])])


def test_one_session_failing_many_times_is_not_a_significant_difference(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 200, successes=160)
    add_requests(variant, 200, successes=160)
    add_session(variant, "unlucky-user", [False] * 80, at=timezone.now() - datetime.timedelta(hours=2))
    control_row, variant_row = ab_test_metrics(ab_test=ab_test)
    assert (control_row["sessions"], variant_row["sessions"]) == (200, 201)
    assert (variant_row["total_requests"], variant_row["success_rate"], variant_row["diff"]) == (280, 57.14, -22.86)
    assert request_level(control_row, variant_row).significant  # 23 points worse, "p < 0.001", by request
    assert variant_row["significant"] is False and variant_row["direction"] is None
    assert variant_row["p_value"] > 0.5 and variant_row["ci_low"] < 0 < variant_row["ci_high"]


def test_completing_does_not_activate_a_variant_whose_lead_is_one_bad_control_session(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 200, successes=150)
    add_requests(variant, 200, successes=150)
    add_session(control, "one-angry-user", [False] * 100, at=timezone.now() - datetime.timedelta(hours=3))
    control_row, variant_row = ab_test_metrics(ab_test=ab_test)
    assert request_level(control_row, variant_row).direction == "better"
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.status == AbTest.Status.COMPLETED and ab_test.winner is None
    assert PromptVersion.objects.get(deployment_id=ab_test.deployment_id, is_active=True).number == 1
    assert ab_test.decision["reason"].startswith("No variant was significantly better than Control")
    assert [row["sessions"] for row in ab_test.decision["variants"]] == [201, 200]


def test_a_session_spread_over_minutes_is_one_session_and_its_requests_are_summed_across_them(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    start = timezone.now() - datetime.timedelta(hours=1)
    for i in range(30):
        add_session(control, f"c{i}", [True, True, False, True], at=start)
        add_session(variant, f"v{i}", [True, False] * 3, at=start)
    control_row, variant_row = ab_test_metrics(ab_test=ab_test)
    assert (control_row["sessions"], control_row["total_requests"]) == (30, 120)
    assert (variant_row["sessions"], variant_row["total_requests"]) == (30, 180)


def test_requests_without_a_session_count_as_a_session_each(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_session(control, "", [True, False, True])
    add_session(control, "known", [True, True])
    add_session(variant, "", [True] * 4)
    control_row, variant_row = ab_test_metrics(ab_test=ab_test)
    assert (control_row["sessions"], variant_row["sessions"]) == (4, 4)


def test_with_one_request_per_session_the_comparison_is_the_request_level_one(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    add_requests(control, 300, successes=150)
    add_requests(variant, 300, successes=185)
    control_row, variant_row = ab_test_metrics(ab_test=ab_test)
    assert variant_row["p_value"] == round(request_level(control_row, variant_row).p_value, 6)

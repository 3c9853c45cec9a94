"""A/B tests: creation rules, the lifecycle and its conflicts, and the completion decision on real request rows."""

import datetime

import pytest
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.deployments.models import AbTest, AbVariant, Deployment, GatewayRequest, PromptVersion
from apps.deployments.selectors.abtests import ab_test_get, ab_tests_for
from apps.deployments.services import abtests
from apps.deployments.services.abtests import (
    ab_test_complete,
    ab_test_create,
    ab_test_delete,
    ab_test_pause,
    ab_test_start,
    ab_tests_auto_complete,
)
from apps.deployments.services.versions import version_activate
from apps.deployments.tests.ab_builders import ab_setup, add_requests, arms
from apps.deployments.tests.builders import make_deployment, make_version


def revision(ab_test) -> int:
    return Deployment.objects.get(pk=ab_test.deployment_id).revision


def active_number(ab_test) -> int:
    return PromptVersion.objects.get(deployment_id=ab_test.deployment_id, is_active=True).number


def events(kind) -> list[Event]:
    return list(Event.objects.filter(kind=kind).order_by("id"))


def create_error(owner, **changes) -> dict:
    deployment = make_deployment(owner, name="errors")
    one, two = make_version(deployment, "One."), make_version(deployment, "Two.")
    fields = {"deployment": deployment, "name": "Tone",
              "variants": [{"version": one, "weight": 50}, {"version": two.pk, "weight": 50}], **changes}
    if callable(fields["variants"]):
        fields["variants"] = fields["variants"](one, two)
    with pytest.raises(InvalidInput) as caught:
        ab_test_create(**fields)
    return caught.value.errors


# Creation


def test_a_new_test_is_a_draft_whose_first_variant_is_the_control(owner):
    deployment = make_deployment(owner)
    one, two = make_version(deployment, "One."), make_version(deployment, "Two.")
    ab_test = ab_test_create(deployment=deployment, name="Tone", created_by="ann",
                             variants=[{"version": one, "weight": 70}, {"version": str(two.pk), "weight": 30}])
    control, variant = arms(ab_test)
    assert ab_test.status == AbTest.Status.DRAFT
    assert (control.name, control.is_control, control.weight, control.version) == ("Control", True, 70, one)
    assert (variant.name, variant.is_control, variant.weight, variant.version) == ("Variant B", False, 30, two)
    assert ab_test.success_criteria == {"require_non_empty": True, "require_no_error": True, "require_helpful": False}
    assert ab_test.guardrails == {"max_latency_increase_pct": 20.0, "max_cost_increase_pct": 20.0}


def test_the_references_criteria_names_are_accepted_and_a_null_guardrail_means_no_limit(owner):
    ab_test = ab_setup(owner, success_criteria={"require_user_helpful": True},
                       guardrails={"max_latency_increase_pct": None})
    assert ab_test.success_criteria["require_helpful"] is True
    assert ab_test.guardrails == {"max_latency_increase_pct": None, "max_cost_increase_pct": 20.0}


@pytest.mark.parametrize(("changes", "field"), [
    ({"variants": lambda one, two: [{"version": one}]}, "variants"),
    ({"variants": lambda one, two: [{"version": one}, {"version": one}]}, "variants.1.version"),
    ({"variants": lambda one, two: [{"version": one}, {"version": "not-an-id"}]}, "variants.1.version"),
    ({"variants": lambda one, two: [{"version": one, "weight": 0}, {"version": two}]}, "variants.0.weight"),
    ({"variants": lambda one, two: [{"version": one, "weight": True}, {"version": two}]}, "variants.0.weight"),
    ({"variants": lambda one, two: [{"version": one, "name": "X"}, {"version": two, "name": "X"}]}, "variants.1.name"),
    ({"name": "  "}, "name"),
    ({"success_criteria": {"require_vibes": True}}, "success_criteria.require_vibes"),
    ({"success_criteria": {"require_helpful": "yes"}}, "success_criteria.require_helpful"),
    ({"guardrails": {"max_latency_increase_pct": -5}}, "guardrails.max_latency_increase_pct"),
    ({"guardrails": {"max_speed": 5}}, "guardrails.max_speed"),
    ({"alpha": 0}, "alpha"),
    ({"alpha": 0.9}, "alpha"),
    ({"min_samples": 0}, "min_samples"),
])
def test_invalid_input_names_the_field(owner, changes, field):
    assert field in create_error(owner, **changes)


def test_a_version_of_another_deployment_is_refused(owner):
    elsewhere = make_version(make_deployment(owner, name="other-bot"), "Elsewhere.")
    errors = create_error(owner, variants=lambda one, two: [{"version": one}, {"version": elsewhere}])
    assert errors == {"variants.1.version": ["Choose a version of this deployment."]}


# Lifecycle


def test_start_pause_and_resume_route_traffic_bump_the_revision_and_say_so(owner):
    ab_test = ab_setup(owner)
    before = revision(ab_test)
    ab_test_start(ab_test=ab_test, actor="ann")
    started_at = ab_test.started_at
    assert ab_test.status == AbTest.Status.RUNNING and started_at is not None
    ab_test_pause(ab_test=ab_test, actor="ann")
    assert AbTest.objects.get(pk=ab_test.pk).status == AbTest.Status.PAUSED
    ab_test_start(ab_test=ab_test)
    assert ab_test.status == AbTest.Status.RUNNING and ab_test.started_at == started_at
    assert revision(ab_test) == before + 3
    started = events(Kind.AB_STARTED)
    assert len(started) == 2 and len(events(Kind.AB_PAUSED)) == 1
    assert started[0].owner_id == owner.pk
    assert started[0].payload == {"deployment_id": str(ab_test.deployment_id), "deployment_name": "support-bot",
                                  "ab_test_id": str(ab_test.pk), "ab_test_name": "Tone", "actor": "ann"}


@pytest.mark.parametrize(("status", "action", "message"), [
    ("running", ab_test_start, "only a draft or paused test can start"),
    ("completed", ab_test_start, "only a draft or paused test can start"),
    ("draft", ab_test_pause, "only a running test can pause"),
    ("paused", ab_test_pause, "only a running test can pause"),
    ("draft", ab_test_complete, "only a running or paused test can complete"),
    ("completed", ab_test_complete, "only a running or paused test can complete"),
])
def test_a_transition_from_the_wrong_state_is_a_conflict(owner, status, action, message):
    ab_test = ab_setup(owner)
    AbTest.objects.filter(pk=ab_test.pk).update(status=status)
    before = revision(ab_test)
    with pytest.raises(Conflict, match=message):
        action(ab_test=ab_test)
    assert AbTest.objects.get(pk=ab_test.pk).status == status and revision(ab_test) == before


def test_only_one_test_of_a_deployment_runs_at_a_time(owner):
    first = ab_setup(owner, name="First")
    versions = list(PromptVersion.objects.filter(deployment_id=first.deployment_id))
    second = ab_test_create(deployment=first.deployment, name="Second",
                            variants=[{"version": v} for v in versions])
    ab_test_start(ab_test=first)
    with pytest.raises(Conflict, match="'First' is already running"):
        ab_test_start(ab_test=second)
    ab_test_pause(ab_test=first)
    ab_test_start(ab_test=second)
    assert AbTest.objects.get(pk=second.pk).status == AbTest.Status.RUNNING


def test_a_second_deployments_test_runs_alongside(owner):
    ab_test_start(ab_test=ab_setup(owner))
    other = ab_setup(owner, deployment_name="sales-bot")
    ab_test_start(ab_test=other)
    assert AbTest.objects.filter(status=AbTest.Status.RUNNING).count() == 2


# The completion decision


def test_a_clearly_better_variant_wins_and_its_version_is_activated(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150)
    add_requests(variant, 300, successes=240)
    before = revision(ab_test)
    ab_test_complete(ab_test=ab_test, actor="ann")
    ab_test.refresh_from_db()
    assert ab_test.status == AbTest.Status.COMPLETED and ab_test.completed_at is not None
    assert ab_test.winner == variant and active_number(ab_test) == 2
    assert ab_test.decision["activated"] is True
    assert ab_test.decision["reason"].startswith(
        "Variant B was significantly better than Control (+30.0 points, p < 0.001)")
    assert [row["total_requests"] for row in ab_test.decision["variants"]] == [300, 300]
    assert revision(ab_test) >= before + 2  # the activation and the completion
    [activated] = events(Kind.VERSION_ACTIVATED)[-1:]
    assert activated.payload["reason"] == "ab_test" and activated.payload["version_id"] == str(variant.version_id)
    [completed] = events(Kind.AB_COMPLETED)
    assert completed.payload["winner_variant_id"] == str(variant.pk) and completed.payload["activated"] is True
    assert completed.payload["decision"]["reason"] == ab_test.decision["reason"]


def test_an_aa_test_completes_activating_nothing_and_says_why(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=210)
    add_requests(variant, 300, successes=212)
    activations = len(events(Kind.VERSION_ACTIVATED))
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.winner is None and active_number(ab_test) == 1
    assert len(events(Kind.VERSION_ACTIVATED)) == activations
    assert ab_test.decision["activated"] is False
    assert ab_test.decision["reason"] == ("No variant was significantly better than Control (p = 1 for Variant B). "
                                          "Control (version 1) stays active.")


def test_a_better_but_slower_variant_is_kept_out_by_the_latency_guardrail(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150, latency_ms=1000)
    add_requests(variant, 300, successes=240, latency_ms=1350)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.winner is None and active_number(ab_test) == 1
    assert ab_test.decision["reason"] == (
        "Variant B was better (p < 0.001) but 35% slower than Control, past the 20% latency guardrail. "
        "Control (version 1) stays active.")


def test_without_a_latency_limit_the_slower_but_better_variant_wins(owner):
    ab_test = ab_setup(owner, guardrails={"max_latency_increase_pct": None})
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150, latency_ms=1000)
    add_requests(variant, 300, successes=240, latency_ms=3000)
    ab_test_complete(ab_test=ab_test)
    assert active_number(ab_test) == 2


def test_a_better_but_dearer_variant_is_kept_out_by_the_cost_guardrail(owner):
    ab_test = ab_setup(owner, guardrails={"max_cost_increase_pct": 10})
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150, cost="0.0010")
    add_requests(variant, 300, successes=240, cost="0.0012")
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert active_number(ab_test) == 1
    assert "but cost 20% more per request than Control, past the 10% cost guardrail" in ab_test.decision["reason"]


def test_a_significant_variant_below_the_minimum_sample_size_does_not_win(owner):
    ab_test = ab_setup(owner, min_samples=500)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150)
    add_requests(variant, 300, successes=240)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert active_number(ab_test) == 1
    assert ab_test.decision["reason"] == (
        "Variant B was better (p < 0.001) but has 300 requests, fewer than the 500 required per variant. "
        "Control (version 1) stays active.")


def test_a_paused_test_completes_too_and_a_test_without_requests_keeps_control(owner):
    ab_test = ab_setup(owner)
    ab_test_start(ab_test=ab_test)
    ab_test_pause(ab_test=ab_test)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.status == AbTest.Status.COMPLETED and active_number(ab_test) == 1
    assert ab_test.decision["reason"] == "No requests were recorded. Control (version 1) stays active."


def test_with_three_variants_the_best_significant_one_wins(owner):
    ab_test = ab_setup(owner, variants=3)
    control, b, c = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 400, successes=160)
    add_requests(b, 400, successes=260)
    add_requests(c, 400, successes=300)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.winner == c and active_number(ab_test) == 3


def test_a_variant_that_trailed_early_and_ties_now_is_not_activated(owner):
    """The review's case: the early minute's tiny p-value belonged to the variant being WORSE, yet the
    decision read the direction from the final +0.5-point difference and activated it."""
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    earlier = timezone.now() - datetime.timedelta(minutes=10)
    add_requests(control, 100, successes=100, at=earlier)
    add_requests(variant, 100, successes=60, at=earlier)
    add_requests(control, 900, successes=800)
    add_requests(variant, 900, successes=845)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    row = ab_test.decision["variants"][1]
    assert row["diff"] == 0.5 and row["direction"] == "worse" and row["ci_high"] < 0
    assert ab_test.winner is None and active_number(ab_test) == 1 and ab_test.decision["activated"] is False
    assert "Variant B was significantly worse" in ab_test.decision["reason"]


def test_a_version_activated_during_the_test_is_named_as_the_one_that_stays(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    third = make_version(ab_test.deployment, "Tracked meanwhile.")
    version_activate(version=third)
    add_requests(control, 300, successes=210)
    add_requests(variant, 300, successes=212)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert active_number(ab_test) == 3
    assert ab_test.decision["reason"].endswith(
        "Version 3, activated while the test ran, stays active (Control is version 1).")
    assert (ab_test.decision["active_version_id"], ab_test.decision["active_version_number"]) == (str(third.pk), 3)


def test_a_winner_is_recorded_as_the_version_that_now_serves(owner):
    ab_test = ab_setup(owner)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=150)
    add_requests(variant, 300, successes=240)
    ab_test_complete(ab_test=ab_test)
    ab_test.refresh_from_db()
    assert ab_test.decision["active_version_id"] == str(variant.version_id)


# Deletion


def test_a_running_test_cannot_be_deleted_but_a_completed_one_can_and_its_requests_stay(owner):
    ab_test = ab_setup(owner)
    control, _ = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 5, successes=5)
    with pytest.raises(Conflict) as excinfo:
        ab_test_delete(ab_test=ab_test)
    assert "pause or complete it" in str(excinfo.value)
    ab_test_complete(ab_test=ab_test)
    before = revision(ab_test)
    ab_test_delete(ab_test=ab_test)
    assert not AbTest.objects.filter(pk=ab_test.pk).exists() and not AbVariant.objects.exists()
    assert GatewayRequest.objects.filter(deployment=ab_test.deployment, ab_test__isnull=True).count() == 5
    assert revision(ab_test) == before + 1
    with pytest.raises(NotFound):
        ab_test_delete(ab_test=ab_test)


# Auto-complete


@pytest.fixture
def no_throttle(monkeypatch):
    monkeypatch.setattr(abtests, "AUTO_COMPLETE_EVERY_S", 0.0)


def test_auto_complete_fires_at_significance_and_minimum_samples_and_not_before(owner, no_throttle):
    ab_test = ab_setup(owner, auto_complete=True, min_samples=200)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 150, successes=60)
    add_requests(variant, 150, successes=130)  # significant already, but short of 200 each
    assert ab_tests_auto_complete(ab_test_ids=[ab_test.pk]) == []
    add_requests(control, 100, successes=50)
    add_requests(variant, 100, successes=80)
    [completed] = ab_tests_auto_complete(ab_test_ids=[str(ab_test.pk)])
    assert completed.status == AbTest.Status.COMPLETED and completed.decision["actor"] == "auto-complete"
    assert active_number(ab_test) == 2


def test_auto_complete_waits_for_significance(owner, no_throttle):
    ab_test = ab_setup(owner, auto_complete=True, min_samples=100)
    control, variant = arms(ab_test)
    ab_test_start(ab_test=ab_test)
    add_requests(control, 300, successes=200)
    add_requests(variant, 300, successes=205)
    assert ab_tests_auto_complete(ab_test_ids=[ab_test.pk]) == []
    assert AbTest.objects.get(pk=ab_test.pk).status == AbTest.Status.RUNNING


def test_auto_complete_leaves_tests_without_it_and_paused_tests_alone(owner, no_throttle, django_assert_num_queries):
    manual = ab_setup(owner)
    paused = ab_setup(owner, deployment_name="sales-bot", auto_complete=True, min_samples=10)
    for ab_test in (manual, paused):
        control, variant = arms(ab_test)
        ab_test_start(ab_test=ab_test)
        add_requests(control, 300, successes=100)
        add_requests(variant, 300, successes=280)
    ab_test_pause(ab_test=paused)
    with django_assert_num_queries(1):
        assert ab_tests_auto_complete(ab_test_ids=[manual.pk, paused.pk, "junk"]) == []
    assert set(AbTest.objects.values_list("status", flat=True)) == {"running", "paused"}


def test_a_candidate_is_checked_at_most_every_few_seconds(owner, django_assert_max_num_queries):
    ab_test = ab_setup(owner, auto_complete=True)
    ab_test_start(ab_test=ab_test)
    ab_tests_auto_complete(ab_test_ids=[ab_test.pk])
    with django_assert_max_num_queries(1):
        assert ab_tests_auto_complete(ab_test_ids=[ab_test.pk]) == []


# Reads


def test_another_users_test_does_not_exist_for_you(owner, other_user):
    ab_test = ab_setup(owner)
    assert ab_test_get(user=owner, ab_test_id=str(ab_test.pk)) == ab_test
    for user, key in ((other_user, ab_test.pk), (owner, "not-a-uuid")):
        with pytest.raises(NotFound):
            ab_test_get(user=user, ab_test_id=key)


def test_a_deployment_lists_only_its_own_tests(owner):
    mine = ab_setup(owner)
    ab_setup(owner, deployment_name="sales-bot")
    assert list(ab_tests_for(deployment=mine.deployment)) == [mine]

"""What counts as a failed gateway request (docs/deployments.md): the gateway stores it, feedback recomputes it
and the A/B test counts it by the test's criteria; analytics counts a model's errors, the requests that were not
answered, whatever a test's criteria."""

from __future__ import annotations

from apps.analytics.selectors import model_performance
from apps.deployments.models import GatewayRequest
from apps.deployments.selectors.abtests import ab_test_metrics
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.services.requests import feedback_record
from apps.deployments.services.versions import version_create
from apps.gateway.tests.builders import chat, deployment_for, post


def running_test(deployment, prompts: tuple[str, str], model: str = "", **criteria: bool):
    versions = [version_create(deployment=deployment, system_prompt=p, model=model)[0] for p in prompts]
    return ab_test_start(ab_test=ab_test_create(
        deployment=deployment, name="t", success_criteria=criteria,
        variants=[{"name": n, "version": v, "weight": 1} for n, v in zip(["a", "b"], versions, strict=True)]))


def counted(ab_test, user) -> tuple[int, int]:
    """(failed requests by the A/B test's metrics, gateway errors by analytics)."""
    failed = sum(row["failed_requests"] for row in ab_test_metrics(ab_test=ab_test))
    return failed, sum(row.errors for row in model_performance(user=user, source="gateway"))


def test_unrated_requests_fail_a_test_that_requires_helpful_but_are_no_model_errors_in_analytics(gateway, owner,
                                                                                                   fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    ab_test = running_test(deployment, ("Be concise.", "Be brief."), require_helpful=True)
    request_ids = [post(gateway, key, chat(f"q{i}", user=f"s{i}")).headers["x-promptlooper-request-id"]
                   for i in range(3)]
    feedback_record(request_id=request_ids[0], helpful=True, user=owner)
    feedback_record(request_id=request_ids[1], helpful=False, user=owner)

    # Answered, but unrated or rated unhelpful: failed by the test's criteria, yet the model answered them.
    # (The fake server answers some prompts empty, an error either way: counted on both sides.)
    failed, errors = counted(ab_test, owner)
    answered_but_failed = GatewayRequest.objects.filter(success=False, error="").count()
    assert answered_but_failed >= 1 and failed == GatewayRequest.objects.filter(success=False).count()
    assert errors == GatewayRequest.objects.exclude(error="").count() == failed - answered_but_failed


def test_an_empty_reply_is_a_model_error_in_analytics_even_where_a_test_allows_it(gateway, owner, fake_llm):
    _, default_key = deployment_for(owner, fake_llm, name="default", prompt="ALWAYS EMPTY")
    allowed, allowed_key = deployment_for(owner, fake_llm, name="allowed")
    ab_test = running_test(allowed, ("ALWAYS EMPTY, concise.", "ALWAYS EMPTY, brief."), require_non_empty=False)

    post(gateway, default_key, chat(user="s"))
    post(gateway, allowed_key, chat(user="s"))

    assert GatewayRequest.objects.filter(error="empty response").count() == 2
    errors = {row.endpoint_label: row.errors for row in model_performance(user=owner, source="gateway")}
    assert errors == {"fake default": 1, "fake allowed": 1}
    assert counted(ab_test, owner)[0] == 0  # the test allows empty replies: no failure there


def test_a_stream_cut_off_midway_stays_a_failure_after_feedback_even_when_errors_are_allowed(gateway, owner,
                                                                                            fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    ab_test = running_test(deployment, ("Be concise.", "Be brief."), model="fault-truncate", require_no_error=False)

    response = post(gateway, key, chat(user="s", stream=True))
    stored = GatewayRequest.objects.get()
    feedback_record(request_id=response.headers["x-promptlooper-request-id"], helpful=True, user=owner)

    assert "data:" in response.text and stored.status_code == 502  # part of the reply reached the caller
    assert stored.success is False and GatewayRequest.objects.get().success is False
    assert counted(ab_test, owner) == (1, 1)

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput, NotFound
from apps.deployments.models import GatewayRequest
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.services.requests import feedback_record
from apps.deployments.services.versions import version_create
from apps.gateway.tests.builders import chat, deployment_for, post


def test_feedback_is_recorded_and_success_recomputed_under_the_tests_criteria(gateway, owner, fake_llm):
    deployment, key = deployment_for(owner, fake_llm)
    versions = [version_create(deployment=deployment, system_prompt=p)[0] for p in ("Be concise.", "Be brief.")]
    ab_test_start(ab_test=ab_test_create(
        deployment=deployment, name="t", success_criteria={"require_helpful": True},
        variants=[{"name": n, "version": v, "weight": 1} for n, v in zip(["a", "b"], versions, strict=True)]))
    request_id = post(gateway, key, chat(user="s")).headers["x-promptlooper-request-id"]
    assert GatewayRequest.objects.get().success is False  # no feedback yet

    feedback_record(request_id=request_id, helpful=True, user=owner)

    row = GatewayRequest.objects.get()
    assert (row.helpful, row.success) == (True, True)
    feedback_record(request_id=request_id, helpful=False, deployment=deployment)
    assert GatewayRequest.objects.get().success is False


def test_feedback_on_another_users_request_is_not_found(gateway, owner, other_user, fake_llm):
    _, key = deployment_for(owner, fake_llm, prompt="Be concise.")
    theirs, _ = deployment_for(other_user, fake_llm, name="theirs")
    request_id = post(gateway, key, chat(user="s")).headers["x-promptlooper-request-id"]

    with pytest.raises(NotFound):
        feedback_record(request_id=request_id, helpful=True, user=other_user)
    with pytest.raises(NotFound):
        feedback_record(request_id=request_id, helpful=True, deployment=theirs)
    with pytest.raises(InvalidInput):
        feedback_record(request_id=request_id, helpful="yes", user=owner)
    assert GatewayRequest.objects.get().helpful is None

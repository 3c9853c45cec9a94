"""DELETE /api/v1/prompts/experiments/{id}: a test that is not running goes with its variants; its requests stay."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from apps.deployments.models import AbTest, AbVariant, GatewayRequest, PromptVersion
from apps.deployments.services.abtests import ab_test_create, ab_test_pause, ab_test_start
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_version

pytestmark = pytest.mark.django_db


def make_test(deployment) -> AbTest:
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")
    return ab_test_create(deployment=deployment, name="Tone", variants=[
        {"version": control, "weight": 1}, {"version": variant, "weight": 1}])


def url(ab_test) -> str:
    return f"/api/v1/prompts/experiments/{ab_test.pk}"


def test_deleting_a_paused_test_removes_it_and_its_variants_but_keeps_its_requests_and_versions(api, owner):
    ab_test = ab_test_start(ab_test=make_test(make_deployment(owner)))
    arm = ab_test.variants.order_by("position").first()
    gateway_requests_record(rows=[{
        "request_id": uuid.uuid4(), "deployment_id": ab_test.deployment_id, "ab_test_id": ab_test.pk,
        "variant_id": arm.pk, "version_id": arm.version_id, "model": "fake-chat", "status_code": 200,
        "success": True, "created_at": timezone.now()}])
    ab_test_pause(ab_test=ab_test)

    response = api.delete(url(ab_test))

    assert response.status_code == 204 and not response.content
    assert api.get(url(ab_test)).status_code == 404
    assert api.get(f"/api/v1/deployments/{ab_test.deployment_id}/prompts/experiments").json()["results"] == []
    assert not AbVariant.objects.exists() and PromptVersion.objects.count() == 2
    row = GatewayRequest.objects.get()
    assert (row.ab_test_id, row.variant_id, row.version_id) == (None, None, arm.version_id)
    assert api.delete(url(ab_test)).status_code == 404


def test_a_running_test_is_not_deleted_and_the_409_says_to_pause_or_complete_it(api, owner):
    ab_test = ab_test_start(ab_test=make_test(make_deployment(owner)))

    response = api.delete(url(ab_test))

    assert response.status_code == 409
    assert "pause or complete it" in response.json()["detail"]
    assert AbTest.objects.get().status == AbTest.Status.RUNNING and AbVariant.objects.count() == 2


def test_another_users_or_a_missing_test_is_not_found_and_stays(api, other_user):
    theirs = make_test(make_deployment(other_user))

    assert api.delete(url(theirs)).status_code == 404
    assert api.delete(f"/api/v1/prompts/experiments/{uuid.uuid4()}").status_code == 404
    assert AbTest.objects.filter(pk=theirs.pk).exists() and AbVariant.objects.count() == 2


def test_a_guest_cannot_delete_a_test(anon_api, guest_mode, owner):
    ab_test = make_test(make_deployment(owner))

    assert anon_api.delete(url(ab_test)).status_code == 401
    assert AbTest.objects.filter(pk=ab_test.pk).exists()

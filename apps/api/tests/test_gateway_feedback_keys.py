"""Feedback refuses every key that is not an active key of the request's deployment, as the gateway does."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from apps.deployments.models import GatewayRequest
from apps.deployments.services.keys import deployment_key_create, deployment_key_revoke
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_endpoint

pytestmark = pytest.mark.django_db


def revoked(mine, theirs):
    key, raw = deployment_key_create(deployment=mine, name="old")
    deployment_key_revoke(deployment=mine, key_id=key.pk)
    return f"Bearer {raw}"


REFUSED = {
    "a revoked key": (revoked, 401),
    "another user's key": (lambda mine, theirs: f"Bearer {deployment_key_create(deployment=theirs, name='k')[1]}",
                           404),
    "a malformed key": (lambda mine, theirs: "Bearer plg_", 401),
    "a forged key": (lambda mine, theirs: "Bearer plg_0123456789ab_not-the-secret", 401),
    "no key": (lambda mine, theirs: None, 401),
}


@pytest.mark.parametrize("case", REFUSED)
def test_feedback_refuses(case, anon_api, owner, other_user):
    mine = make_deployment(owner, name="mine", endpoint=make_endpoint(owner))
    theirs = make_deployment(other_user, name="theirs", endpoint=make_endpoint(other_user))
    request_id = uuid.uuid4()
    gateway_requests_record(rows=[{"request_id": request_id, "deployment_id": mine.pk, "model": "fake-chat",
                                   "status_code": 200, "success": True, "created_at": timezone.now()}])
    authorization, status = REFUSED[case]
    header = authorization(mine, theirs)
    if header:
        anon_api.credentials(HTTP_AUTHORIZATION=header)

    response = anon_api.post("/api/v1/gateway/feedback", {"request_id": str(request_id), "helpful": False},
                             format="json")

    assert response.status_code == status
    assert GatewayRequest.objects.get().helpful is None

"""Every deployment, prompt version and A/B test operation answers a valid request as the OpenAPI schema documents.

The schema fuzz (apps/core/tests/test_schema_fuzz.py) mostly sees these operations' 400s and 404s; this calls
each one with a request that succeeds, against real rows, and validates status, content type and body.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from apps.accounts.tokens import token_issue
from apps.core.tests.test_schema_fuzz import body_is_documented, rolled_back
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.services.keys import deployment_key_create
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_run, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(owner) -> dict:
    deployment = make_deployment(owner)
    control, variant, spare = (make_version(deployment, text) for text in ("One.", "Two.", "Three."))
    key, _ = deployment_key_create(deployment=deployment, name="prod")
    ab_test = ab_test_start(ab_test=ab_test_create(deployment=deployment, name="Tone", variants=[
        {"version": control, "weight": 70}, {"version": variant, "weight": 30}]))
    draft = ab_test_create(deployment=deployment, name="Draft", variants=[
        {"version": control, "weight": 1}, {"version": variant, "weight": 1}])
    arm = ab_test.variants.order_by("position").first()
    request_id = uuid.uuid4()
    gateway_requests_record(rows=[{"request_id": request_id, "deployment_id": deployment.pk, "ab_test_id": ab_test.pk,
                                   "variant_id": arm.pk, "version_id": control.pk, "model": "fake-chat",
                                   "status_code": 200, "success": True, "created_at": timezone.now()}])
    run = make_run(owner, stages=[{"name": "answer", "model": "fake-chat", "system_prompt": "Be brief.",
                                   "prompt_template": "{{ input }}"}])
    return {"token": token_issue(user_id=owner.pk)[0], "deployment": str(deployment.pk), "key": str(key.pk),
            "endpoint": str(deployment.endpoint_id), "control": str(control.pk), "variant": str(variant.pk),
            "spare": str(spare.pk), "ab_test": str(ab_test.pk), "draft": str(draft.pk), "request_id": str(request_id),
            "run": str(run.pk)}


@pytest.fixture
def api_schema(world):
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def requests_for(w: dict) -> list[tuple[str, str, dict, dict | None]]:
    dep, ab = {"id": w["deployment"]}, {"id": w["ab_test"]}
    variants = [{"name": "A", "prompt_version_id": w["control"]}, {"name": "B", "prompt_version_id": w["spare"]}]
    return [
        ("GET", "/api/v1/deployments", {}, None),
        ("POST", "/api/v1/deployments", {}, {"name": "second", "endpoint": w["endpoint"], "model": "m",
                                             "params": {"temperature": 0.1}, "project": None}),
        ("GET", "/api/v1/deployments/{id}", dep, None),
        ("PATCH", "/api/v1/deployments/{id}", dep, {"auto_track": True}),
        ("DELETE", "/api/v1/deployments/{id}", dep, None),
        ("GET", "/api/v1/deployments/{id}/keys", dep, None),
        ("POST", "/api/v1/deployments/{id}/keys", dep, {"name": "ci"}),
        ("DELETE", "/api/v1/deployments/{id}/keys/{key_id}", {**dep, "key_id": w["key"]}, None),
        ("GET", "/api/v1/deployments/{id}/prompts/versions", dep, None),
        ("POST", "/api/v1/deployments/{id}/prompts/versions", dep, {"system_prompt": "Four.", "params": {}}),
        ("POST", "/api/v1/deployments/{id}/prompts/versions", dep, {"system_prompt": "One."}),
        ("GET", "/api/v1/prompts/versions/{id}", {"id": w["control"]}, None),
        ("DELETE", "/api/v1/prompts/versions/{id}", {"id": w["spare"]}, None),
        ("POST", "/api/v1/prompts/versions/{id}/activate", {"id": w["spare"]}, {}),
        ("GET", "/api/v1/deployments/{id}/prompts/experiments", dep, None),
        ("POST", "/api/v1/deployments/{id}/prompts/experiments", dep,
         {"name": "More", "variants": variants, "traffic_split": [1, 1], "guardrails": {"max_cost_increase_pct": None},
          "success_criteria": {"require_user_helpful": True}}),
        ("GET", "/api/v1/prompts/experiments/{id}", ab, None),
        ("GET", "/api/v1/prompts/experiments/{id}/metrics", ab, None),
        ("POST", "/api/v1/prompts/experiments/{id}/pause", ab, None),
        ("POST", "/api/v1/prompts/experiments/{id}/complete", ab, None),
        ("DELETE", "/api/v1/prompts/experiments/{id}", {"id": w["draft"]}, None),
        ("POST", "/api/v1/runs/{run_id}/promote", {"run_id": w["run"]},
         {"deployment_id": w["deployment"], "start_ab_test": False, "stage": 0}),
        ("POST", "/api/v1/gateway/feedback", {}, {"request_id": w["request_id"], "helpful": True}),
    ]


def test_each_operation_answers_a_valid_request_as_documented(api_schema, world):
    headers = {"Authorization": f"Bearer {world['token']}"}
    for method, path, params, body in requests_for(world):
        extra = {"body": body, "media_type": "application/json"} if body is not None else {}
        case = api_schema[path][method].Case(path_parameters=params, **extra)
        with rolled_back():
            response = case.call(headers=headers)
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.text)
        case.validate_response(response, headers=headers, additional_checks=[body_is_documented])


def test_deleting_a_running_ab_test_is_a_documented_409(api_schema, world):
    headers = {"Authorization": f"Bearer {world['token']}"}
    case = api_schema["/api/v1/prompts/experiments/{id}"]["DELETE"].Case(path_parameters={"id": world["ab_test"]})
    with rolled_back():
        response = case.call(headers=headers)
    assert response.status_code == 409 and "running" in response.json()["detail"]
    case.validate_response(response, headers=headers, additional_checks=[body_is_documented])

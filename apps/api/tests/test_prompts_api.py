"""REST for prompt versions and A/B tests (the reference's /prompts/versions and /prompts/experiments)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.deployments.models import AbTest, PromptVersion
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_version
from apps.webhooks.models import WebhookConfig, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployment(owner):
    return make_deployment(owner)


def versions_url(deployment) -> str:
    return f"/api/v1/deployments/{deployment.pk}/prompts/versions"


def ab_tests_url(deployment) -> str:
    return f"/api/v1/deployments/{deployment.pk}/prompts/experiments"


def test_identical_content_returns_the_existing_version_with_200_and_a_change_makes_a_new_one(api, deployment):
    body = {"system_prompt": "You are a helpful coding assistant.", "description": "Focus on code quality"}

    first = api.post(versions_url(deployment), body, format="json")
    same = api.post(versions_url(deployment), {**body, "description": "again"}, format="json")
    other = api.post(versions_url(deployment), {"system_prompt": "Be brief."}, format="json")

    assert (first.status_code, same.status_code, other.status_code) == (201, 200, 201)
    assert same.json()["id"] == first.json()["id"] and len(first.json()["content_hash"]) == 64
    assert (first.json()["number"], first.json()["is_active"], first.json()["created_by"]) == (1, True, "owner")
    assert (other.json()["number"], other.json()["is_active"]) == (2, False)
    listed = api.get(versions_url(deployment)).json()["results"]
    assert [v["number"] for v in listed] == [2, 1]


def test_a_version_without_any_prompt_or_with_a_bad_template_is_refused_by_field(api, deployment):
    empty = api.post(versions_url(deployment), {"system_prompt": "  "}, format="json")
    broken = api.post(versions_url(deployment), {"system_prompt": "Hi", "user_template": "{{ input "}, format="json")

    assert empty.status_code == 400 and "system_prompt" in empty.json()
    assert broken.status_code == 400 and "user_template" in broken.json()
    assert not PromptVersion.objects.exists()


def test_activating_a_version_switches_the_active_one_and_sends_the_version_activated_webhook(api, owner, deployment):
    webhook = WebhookConfig(owner=owner, url="https://hooks.example.test/in", event_types=["version.activated"])
    webhook.set_secret("whsec_test")
    webhook.save()
    first, second = make_version(deployment, "One."), make_version(deployment, "Two.")
    WebhookDelivery.objects.all().delete()  # the first version's own activation

    response = api.post(f"/api/v1/prompts/versions/{second.pk}/activate", format="json")

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    assert set(PromptVersion.objects.filter(is_active=True).values_list("pk", flat=True)) == {second.pk}
    delivery = WebhookDelivery.objects.get(webhook=webhook)
    assert delivery.event_type == "version.activated"
    data = delivery.payload["data"]
    assert (data["version_id"], data["previous_version_id"], data["number"]) == (str(second.pk), str(first.pk), 2)


def test_the_active_version_cannot_be_deleted_an_inactive_one_can(api, deployment):
    active, spare = make_version(deployment, "One."), make_version(deployment, "Two.")

    refused = api.delete(f"/api/v1/prompts/versions/{active.pk}")
    deleted = api.delete(f"/api/v1/prompts/versions/{spare.pk}")

    assert refused.status_code == 409 and "active" in refused.json()["detail"]
    assert deleted.status_code == 204
    assert list(PromptVersion.objects.values_list("pk", flat=True)) == [active.pk]
    assert api.get(f"/api/v1/prompts/versions/{active.pk}").json()["system_prompt"] == "One."


def test_another_users_versions_and_tests_are_not_found_and_stay_unchanged(api, other_user):
    theirs = make_deployment(other_user)
    one, two = make_version(theirs, "One."), make_version(theirs, "Two.")
    ab = AbTest.objects.create(deployment=theirs, name="Theirs")

    answers = [api.get(versions_url(theirs)), api.post(versions_url(theirs), {"system_prompt": "x"}, format="json"),
               api.get(f"/api/v1/prompts/versions/{two.pk}"), api.delete(f"/api/v1/prompts/versions/{two.pk}"),
               api.post(f"/api/v1/prompts/versions/{two.pk}/activate"), api.get(ab_tests_url(theirs)),
               api.post(ab_tests_url(theirs), {"name": "x", "variants": []}, format="json"),
               api.get(f"/api/v1/prompts/experiments/{ab.pk}"), api.post(f"/api/v1/prompts/experiments/{ab.pk}/start"),
               api.get(f"/api/v1/prompts/experiments/{ab.pk}/metrics")]

    assert [r.status_code for r in answers] == [404] * len(answers)
    assert PromptVersion.objects.count() == 2 and PromptVersion.objects.get(is_active=True) == one
    ab.refresh_from_db()
    assert ab.status == "draft"


def test_guests_cannot_read_or_write_versions(anon_api, guest_mode, deployment):
    version = make_version(deployment)
    assert anon_api.get(versions_url(deployment)).status_code == 401
    assert anon_api.post(versions_url(deployment), {"system_prompt": "x"}, format="json").status_code == 401
    assert anon_api.post(f"/api/v1/prompts/versions/{version.pk}/activate").status_code == 401
    assert PromptVersion.objects.count() == 1


def reference_body(control, variant, **extra) -> dict:
    """The reference's create-experiment body."""
    return {"name": "Tone comparison", "status": "draft", "traffic_split": [70, 30],
            "success_criteria": {"require_user_helpful": False, "require_no_tool_errors": True,
                                 "require_non_empty": True},
            "variants": [{"name": "Control", "prompt_version_id": str(control.pk), "description": "Current prompt"},
                         {"name": "Variant B", "prompt_version_id": str(variant.pk), "description": "More concise"}],
            **extra}


def test_it_creates_an_ab_test_from_the_references_body_with_its_split_and_aliases(api, deployment):
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")

    response = api.post(ab_tests_url(deployment), reference_body(control, variant, min_samples=50), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["status"], body["traffic_split"], body["min_samples"]) == (
        "Tone comparison", "draft", [70, 30], 50)
    assert body["success_criteria"] == {"require_non_empty": True, "require_no_error": True, "require_helpful": False}
    assert [(v["name"], v["prompt_version_id"], v["is_control"]) for v in body["variants"]] == [
        ("Control", str(control.pk), True), ("Variant B", str(variant.pk), False)]
    assert [t["id"] for t in api.get(ab_tests_url(deployment)).json()["results"]] == [body["id"]]


def test_a_bad_ab_test_is_refused_naming_the_field_and_nothing_is_created(api, owner, deployment):
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")
    elsewhere = make_version(make_deployment(owner, name="other-bot"), "Elsewhere.")

    split = api.post(ab_tests_url(deployment), {**reference_body(control, variant), "traffic_split": [1, 2, 3]},
                     format="json")
    foreign = api.post(ab_tests_url(deployment), reference_body(control, elsewhere), format="json")
    one = api.post(ab_tests_url(deployment), {"name": "x", "variants": [{"prompt_version_id": str(control.pk)}]},
                   format="json")
    criteria = api.post(ab_tests_url(deployment), reference_body(control, variant, success_criteria={"fast": True}),
                        format="json")

    assert split.status_code == 400 and "traffic_split" in split.json()
    assert foreign.status_code == 400 and "prompt_version_id" in foreign.json()["variants"][1]
    assert one.status_code == 400 and "variants" in one.json()
    assert criteria.status_code == 400 and "success_criteria.fast" in criteria.json()
    assert not AbTest.objects.exists()


def record(ab_test, variant, *, ok: int, failed: int) -> None:
    start = timezone.now() - timedelta(minutes=10)
    gateway_requests_record(rows=[
        {"request_id": uuid.uuid4(), "deployment_id": ab_test.deployment_id, "version_id": variant.version_id,
         "ab_test_id": ab_test.pk, "variant_id": variant.pk, "model": "fake-chat", "status_code": 200,
         "success": n < ok, "latency_ms": 100, "cost_usd": "0.001", "created_at": start + timedelta(seconds=n)}
        for n in range(ok + failed)])


def test_start_pause_and_a_second_running_test_answer_as_the_state_allows(api, deployment):
    control, variant, third = (make_version(deployment, text) for text in ("One.", "Two.", "Three."))
    first = api.post(ab_tests_url(deployment), reference_body(control, variant), format="json").json()
    second = api.post(ab_tests_url(deployment), reference_body(control, third), format="json").json()
    at = "/api/v1/prompts/experiments/{}/{}".format

    assert api.post(at(first["id"], "pause")).status_code == 409
    assert api.post(at(first["id"], "start")).json()["status"] == "running"
    blocked = api.post(at(second["id"], "start"))
    assert blocked.status_code == 409 and "already running" in blocked.json()["detail"]
    assert api.post(at(first["id"], "pause")).json()["status"] == "paused"
    assert api.post(at(second["id"], "start")).json()["status"] == "running"
    assert api.get(f"/api/v1/prompts/experiments/{first['id']}").json()["status"] == "paused"


def test_metrics_show_each_variant_and_its_difference_from_control(api, deployment):
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")
    created = api.post(ab_tests_url(deployment), reference_body(control, variant), format="json").json()
    api.post(f"/api/v1/prompts/experiments/{created['id']}/start")
    ab_test = AbTest.objects.get(pk=created["id"])
    arms = list(ab_test.variants.order_by("position"))
    record(ab_test, arms[0], ok=8, failed=2)
    record(ab_test, arms[1], ok=5, failed=0)

    rows = api.get(f"/api/v1/prompts/experiments/{created['id']}/metrics").json()

    assert [(r["variant_name"], r["total_requests"], r["successful_requests"], r["failed_requests"],
             r["success_rate"]) for r in rows] == [("Control", 10, 8, 2, 80.0), ("Variant B", 5, 5, 0, 100.0)]
    assert rows[0]["diff"] is None and rows[1]["diff"] == 20.0
    assert rows[1]["ci_low"] < 20.0 < rows[1]["ci_high"] and 0 < rows[1]["p_value"] <= 1
    assert rows[1]["significant"] is False
    assert rows[0]["total_cost_usd"] == pytest.approx(0.01) and rows[0]["avg_latency_ms"] == 100.0


def test_complete_activates_a_clearly_better_variant_and_returns_the_decision(api, deployment):
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")
    body = reference_body(control, variant, min_samples=100)
    created = api.post(ab_tests_url(deployment), body, format="json").json()
    api.post(f"/api/v1/prompts/experiments/{created['id']}/start")
    ab_test = AbTest.objects.get(pk=created["id"])
    arms = list(ab_test.variants.order_by("position"))
    record(ab_test, arms[0], ok=150, failed=150)
    record(ab_test, arms[1], ok=290, failed=10)

    response = api.post(f"/api/v1/prompts/experiments/{created['id']}/complete")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["winner"] == str(arms[1].pk)
    assert body["decision"]["activated"] is True and body["decision"]["reason"]
    variant.refresh_from_db()
    assert variant.is_active
    assert api.post(f"/api/v1/prompts/experiments/{created['id']}/complete").status_code == 409


def test_complete_without_enough_data_keeps_control_and_says_why(api, deployment):
    control, variant = make_version(deployment, "One."), make_version(deployment, "Two.")
    created = api.post(ab_tests_url(deployment), reference_body(control, variant), format="json").json()
    api.post(f"/api/v1/prompts/experiments/{created['id']}/start")

    body = api.post(f"/api/v1/prompts/experiments/{created['id']}/complete").json()

    assert body["status"] == "completed" and body["winner"] is None
    assert body["decision"]["activated"] is False and body["decision"]["reason"]
    control.refresh_from_db()
    assert control.is_active

"""The admin shows each delivery's attempts and offers "send a test event" and "redeliver"."""

from __future__ import annotations

import pytest

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import webhook_create
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(owner, receiver):
    webhook, _ = webhook_create(owner=owner, url=receiver.url, event_types=["run.failed"])
    return webhook


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_admin_sends_a_test_event(staff, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/webhooks/webhookconfig/", {
            "action": "send_test_event", "_selected_action": [str(hook.pk)]}, follow=True)
    assert b"Test events queued: 1" in response.content
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_the_admin_shows_attempts_and_redelivers(
        staff, experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(500, body=b"upstream exploded")]
    with django_capture_on_commit_callbacks(execute=True):
        event_emit(kind=Kind.RUN_FAILED, experiment=experiment, payload={"error": "x"})
    delivery = WebhookDelivery.objects.get()
    page = staff.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b"upstream exploded" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/admin/webhooks/webhookdelivery/", {
            "action": "redeliver", "_selected_action": [str(delivery.pk)]}, follow=True)
    assert b"Deliveries queued again: 1" in response.content
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.received) == 2


def test_redelivering_to_a_disabled_webhook_is_refused_with_a_message(
        staff, experiment, hook, receiver, run_tasks_now):
    event_emit(kind=Kind.RUN_FAILED, experiment=experiment, payload={})
    hook.is_active = False
    hook.save()
    delivery = WebhookDelivery.objects.get()
    response = staff.post("/admin/webhooks/webhookdelivery/", {
        "action": "redeliver", "_selected_action": [str(delivery.pk)]}, follow=True)
    assert b"enable it before redelivering" in response.content
    assert receiver.received == []

"""The delivery log, "send test event" and "redeliver" over REST: owner only, the same path as real events."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import webhook_create
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(owner, receiver):
    webhook, secret = webhook_create(owner=owner, url=receiver.url, event_types=["run.failed"])
    webhook.plain_secret = secret
    return webhook


def deliveries_url(hook) -> str:
    return f"/api/v1/webhooks/{hook.pk}/deliveries"


def failed_delivery(experiment, receiver, capture) -> WebhookDelivery:
    receiver.replies = [Reply(500, body=b"nope")]
    with capture(execute=True):
        event_emit(kind=Kind.RUN_FAILED, experiment=experiment, payload={"run_id": "r1", "error": "boom"})
    return WebhookDelivery.objects.get()


def test_the_owner_reads_the_delivery_log_with_every_attempt(
        api, experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    delivery = failed_delivery(experiment, receiver, django_capture_on_commit_callbacks)
    response = api.get(deliveries_url(hook))
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == delivery.pk and row["event_type"] == "run.failed" and row["status"] == "pending"
    assert row["message_id"] == delivery.message_id and row["next_retry_at"]
    [attempt] = row["attempt_log"]
    assert attempt["number"] == 1 and attempt["status_code"] == 500 and attempt["response_excerpt"] == "nope"
    assert attempt["latency_ms"] is not None and attempt["next_retry_at"] == row["next_retry_at"]
    assert api.get(deliveries_url(hook), {"status": "succeeded"}).json()["count"] == 0


def test_send_test_event_delivers_a_signed_ping_through_the_same_path(api, hook, receiver, run_tasks_now,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/webhooks/{hook.pk}/test")
    assert response.status_code == 202
    [request] = receiver.received
    body = Webhook(hook.plain_secret).verify(request.body, request.headers)
    assert body["type"] == "webhook.test" and body["data"]["webhook_id"] == str(hook.pk)
    log = api.get(deliveries_url(hook)).json()["results"]
    assert [(row["event_type"], row["status"]) for row in log] == [("webhook.test", "succeeded")]


def test_redeliver_sends_again_now_with_the_same_webhook_id(
        api, experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    delivery = failed_delivery(experiment, receiver, django_capture_on_commit_callbacks)
    url = f"{deliveries_url(hook)}/{delivery.pk}/redeliver"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(url).status_code == 202  # a delivered event can be replayed on purpose
    assert len(receiver.received) == 3


def test_a_disabled_webhook_refuses_test_and_redeliver_with_409(
        api, experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    delivery = failed_delivery(experiment, receiver, django_capture_on_commit_callbacks)
    hook.is_active = False
    hook.save()
    assert api.post(f"/api/v1/webhooks/{hook.pk}/test").status_code == 409
    assert api.post(f"{deliveries_url(hook)}/{delivery.pk}/redeliver").status_code == 409
    assert len(receiver.received) == 1


def test_another_user_gets_404_and_nothing_is_sent(
        other_api, experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    delivery = failed_delivery(experiment, receiver, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert other_api.get(deliveries_url(hook)).status_code == 404
        assert other_api.post(f"/api/v1/webhooks/{hook.pk}/test").status_code == 404
        assert other_api.post(f"{deliveries_url(hook)}/{delivery.pk}/redeliver").status_code == 404
    assert len(receiver.received) == 1 and WebhookDelivery.objects.count() == 1


def test_a_delivery_of_another_webhook_is_404_under_mine(api, owner, experiment, hook, receiver):
    other_hook, _ = webhook_create(owner=owner, url=receiver.url, event_types=["run.failed"])
    event_emit(kind=Kind.RUN_FAILED, experiment=experiment, payload={})
    theirs = WebhookDelivery.objects.get(webhook=other_hook)
    assert api.post(f"{deliveries_url(hook)}/{theirs.pk}/redeliver").status_code == 404


def test_guests_and_anonymous_are_refused(anon_api, guest_mode, hook):
    assert anon_api.get(deliveries_url(hook)).status_code == 401
    assert anon_api.post(f"/api/v1/webhooks/{hook.pk}/test").status_code == 401
    assert not WebhookDelivery.objects.exists()

"""Webhook delivery end to end against a local receiver: signed, retried, disabled, and never lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.activity.services import event_emit
from apps.projects.models import Project
from apps.webhooks.delivery import deliveries_sweep, delivery_send
from apps.webhooks.models import WebhookConfig, WebhookDelivery
from apps.webhooks.services import webhook_create
from apps.webhooks.tests.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(owner, receiver):
    webhook, secret = webhook_create(owner=owner, url=receiver.url, headers={"X-Team": "ml"},
                                     event_types=["run.failed", "experiment.completed"])
    webhook.plain_secret = secret
    return webhook


def emit(experiment, kind=Kind.RUN_FAILED, **payload):
    return event_emit(kind=kind, experiment=experiment, payload=payload or {"run_id": "r1", "error": "boom"})


def emit_and_send(experiment, capture, **kwargs):
    with capture(execute=True):
        return emit(experiment, **kwargs)


def only_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def retry_now(delivery: WebhookDelivery):
    """Let the clock reach the delivery's next retry, then run the sweeper as the schedule would."""
    delivery.refresh_from_db()
    return deliveries_sweep(now=delivery.next_retry_at)


def test_a_subscribed_event_arrives_signed_with_the_documented_envelope_and_custom_headers(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    event = emit_and_send(experiment, django_capture_on_commit_callbacks)
    [request] = receiver.received
    body = Webhook(hook.plain_secret).verify(request.body, request.headers)
    assert body["type"] == "run.failed"
    assert body["timestamp"].startswith(str(event.created_at.year))
    assert body["data"] == {
        "project_id": str(experiment.project_id), "experiment_id": str(experiment.pk),
        "experiment_name": "extract-v2", "sweep_id": None, "run_id": "r1", "error": "boom",
    }
    assert request.headers["x-team"] == "ml"
    assert request.headers["content-type"] == "application/json"
    delivery = only_delivery()
    assert delivery.status == "succeeded" and delivery.status_code == 200 and delivery.attempts == 1
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.latency_ms is not None and delivery.response_excerpt == "ok"


def test_a_500_is_retried_on_schedule_and_the_retry_carries_the_same_webhook_id(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(500, body=b"database down")]
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    assert delivery.status == "pending" and delivery.status_code == 500
    assert delivery.response_excerpt == "database down"
    first_wait = delivery.next_retry_at - delivery.attempt_log.get().started_at
    assert timedelta(seconds=24) <= first_wait <= timedelta(seconds=36)
    assert deliveries_sweep(now=delivery.next_retry_at - timedelta(seconds=1)) == 0  # not yet due
    assert retry_now(delivery) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    Webhook(hook.plain_secret).verify(second.body, second.headers)


def test_a_hanging_receiver_times_out_and_is_retried(
        experiment, hook, receiver, run_tasks_now, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_READ_TIMEOUT_S = 0.3
    receiver.replies = [Reply(hang_s=5)]
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    assert delivery.status == "pending" and delivery.status_code is None
    assert "Timed out" in delivery.last_error and delivery.next_retry_at is not None
    retry_now(delivery)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.received) == 2


def test_a_410_disables_the_webhook_and_says_so_on_the_timeline(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(410)]
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    assert delivery.status == "failed" and delivery.next_retry_at is None
    hook.refresh_from_db()
    assert hook.is_active is False and "410" in hook.disabled_reason
    disabled = Event.objects.get(kind=Kind.WEBHOOK_DISABLED)
    assert disabled.owner_id == hook.owner_id and disabled.payload["webhook_id"] == str(hook.pk)
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1  # a disabled webhook gets nothing more


def test_retry_after_in_seconds_or_as_a_date_sets_the_next_attempt(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(429, headers={"Retry-After": "900"}), Reply(503, headers={
        "Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})]
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    started = delivery.attempt_log.get().started_at
    assert delivery.next_retry_at - started == timedelta(seconds=900)
    retry_now(delivery)
    delivery.refresh_from_db()
    second = delivery.attempt_log.get(number=2)
    assert delivery.next_retry_at - second.started_at == timedelta(hours=6)  # a far date is capped


def test_the_schedule_ends_after_about_a_day_and_the_delivery_fails(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(500)] * 20
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    while delivery.status == "pending":
        retry_now(delivery)
        delivery.refresh_from_db()
    attempts = list(delivery.attempt_log.all())
    assert delivery.status == "failed" and len(attempts) == 9
    assert timedelta(hours=18) < attempts[-1].started_at - attempts[0].started_at < timedelta(hours=28)


def test_a_run_of_consecutive_failures_disables_the_webhook(
        experiment, hook, receiver, run_tasks_now, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES = 3
    receiver.replies = [Reply(500)] * 3
    for _ in range(3):
        emit_and_send(experiment, django_capture_on_commit_callbacks)
    hook.refresh_from_db()
    assert hook.is_active is False and "3 delivery attempts in a row failed" in hook.disabled_reason
    assert Event.objects.filter(kind=Kind.WEBHOOK_DISABLED).count() == 1
    pending = WebhookDelivery.objects.filter(status="pending").first()
    retry_now(pending)
    pending.refresh_from_db()
    assert pending.status == "failed" and "disabled" in pending.last_error
    assert len(receiver.received) == 3


def test_a_success_resets_the_failure_count(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    receiver.replies = [Reply(500), Reply(500)]
    for _ in range(3):
        emit_and_send(experiment, django_capture_on_commit_callbacks)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0


def test_an_event_whose_send_was_lost_is_delivered_later_by_the_sweeper(experiment, hook, receiver, run_tasks_now):
    emit(experiment)  # committed, but the on-commit send never ran: the worker died in between
    delivery = only_delivery()
    assert delivery.status == "pending" and receiver.received == []
    assert deliveries_sweep() == 0  # the on-commit send gets a few seconds first
    assert deliveries_sweep(now=delivery.created_at + timedelta(seconds=11)) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.received) == 1


def test_a_rolled_back_event_writes_no_delivery(experiment, hook):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(experiment)
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


def test_other_projects_unsubscribed_kinds_and_other_owners_get_nothing(
        experiment, owner, other_user, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    elsewhere = Project.objects.create(owner=owner, name="Elsewhere")
    webhook_create(owner=owner, url=receiver.url, event_types=["run.failed"], project_id=elsewhere.pk)
    webhook_create(owner=owner, url=receiver.url, event_types=["new_best_found"])
    webhook_create(owner=other_user, url=receiver.url, event_types=["run.failed"])
    mine, _ = webhook_create(owner=owner, url=receiver.url, event_types=["run.failed"],
                             project_id=experiment.project_id)
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    emit_and_send(experiment, django_capture_on_commit_callbacks, kind=Kind.RUN_COMPLETED, run_id="r2")
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [mine.pk]
    assert len(receiver.received) == 1


def test_two_senders_never_send_the_same_attempt(experiment, hook, receiver):
    emit(experiment)
    delivery = only_delivery()
    assert delivery_send(delivery_id=delivery.pk) is not None
    assert delivery_send(delivery_id=delivery.pk) is None  # succeeded already
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="pending", next_retry_at=None,
                                                          claimed_until=delivery.created_at + timedelta(days=1))
    assert delivery_send(delivery_id=delivery.pk, now=delivery.created_at) is None  # someone holds the lease
    assert len(receiver.received) == 1


def test_experiment_completed_carries_the_summary_and_the_best_run(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    summary = {"runs": 4, "tokens_in": 10, "tokens_out": 5, "cost_usd": "0.01", "cache_hits": 1}
    emit_and_send(experiment, django_capture_on_commit_callbacks, kind=Kind.SWEEP_COMPLETED, **summary)
    data = json.loads(receiver.received[0].body)["data"]
    assert {key: data[key] for key in summary} == summary
    assert "best" not in data or data["best"] is None  # no sweep, no best run


def test_a_webhook_url_now_resolving_to_a_private_address_is_refused_at_send_time(
        experiment, hook, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    from apps.core.models import SystemSettings

    SystemSettings.objects.update(egress_allowlist="")
    emit_and_send(experiment, django_capture_on_commit_callbacks)
    delivery = only_delivery()
    assert receiver.received == []
    assert delivery.status == "pending" and "egress policy" in delivery.last_error
    assert WebhookConfig.objects.get().is_active

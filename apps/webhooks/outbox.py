"""The outbox: delivery rows written in the event's own transaction, then rung on commit.

`deliveries_record` is registered with `activity.services.on_events_recorded` (WebhooksConfig.ready),
so an event and its deliveries commit or roll back together; the send task only rings the doorbell,
and the sweeper (`apps.webhooks.delivery.deliveries_sweep`) finds anything whose ring was lost.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.activity.kinds import webhook_kinds
from apps.activity.models import Event
from apps.core.errors import Conflict
from apps.core.queue import enqueue_on_commit
from apps.webhooks.envelope import TEST_TYPE, event_envelopes, test_envelope
from apps.webhooks.models import WebhookConfig, WebhookDelivery

SEND_TASK = "apps.webhooks.tasks.webhook_delivery_send"
# The on-commit task normally sends within milliseconds; the sweeper takes over after this.
FIRST_SEND_GRACE = timedelta(seconds=10)
_SUBSCRIBABLE = frozenset(webhook_kinds())


def _subscribers(events: list[Event]) -> dict[int, list[WebhookConfig]]:
    owners = {event.owner_id for event in events}
    webhooks = list(WebhookConfig.objects.filter(owner_id__in=owners, is_active=True))
    matched: dict[int, list[WebhookConfig]] = {}
    for event in events:
        hits = [w for w in webhooks if w.owner_id == event.owner_id and event.kind in w.event_types
                and (w.project_id is None or w.project_id == event.project_id)]
        if hits:
            matched[event.pk] = hits
    return matched


def deliveries_record(events: list[Event]) -> list[WebhookDelivery]:
    """One pending delivery per (event, active subscribed webhook of its owner and project), queued on commit."""
    events = [event for event in events if event.kind in _SUBSCRIBABLE]
    if not events:
        return []  # most batches (run.completed, run.started …) end here without a query
    matched = _subscribers(events)
    if not matched:
        return []
    envelopes = event_envelopes(e for e in events if e.pk in matched)
    due = timezone.now() + FIRST_SEND_GRACE
    rows = [
        WebhookDelivery(webhook=webhook, event=event, event_type=event.kind, payload=envelopes[event.pk],
                        next_retry_at=due)
        for event in events for webhook in matched.get(event.pk, [])
    ]
    rows = WebhookDelivery.objects.bulk_create(rows)
    for row in rows:
        enqueue_on_commit(SEND_TASK, row.pk, task_name=f"webhook delivery {row.pk}")
    return rows


def delivery_test_create(*, webhook: WebhookConfig) -> WebhookDelivery:
    """Queue a `webhook.test` delivery now, through the same signing, egress and logging path."""
    if not webhook.is_active:
        raise Conflict("This webhook is disabled; enable it before sending a test event.")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            webhook=webhook, event_type=TEST_TYPE, payload=test_envelope(webhook_id=str(webhook.pk)),
            next_retry_at=timezone.now() + FIRST_SEND_GRACE,
        )
        enqueue_on_commit(SEND_TASK, delivery.pk, task_name=f"webhook delivery {delivery.pk}")
    return delivery


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now with its original body and `webhook-id`, starting a fresh retry schedule."""
    if not delivery.webhook.is_active:
        raise Conflict("This webhook is disabled; enable it before redelivering.")
    now = timezone.now()
    with transaction.atomic():
        # Not while a sender holds it: the attempt in flight decides its outcome first.
        updated = (WebhookDelivery.objects.filter(pk=delivery.pk)
                   .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                   .update(status=WebhookDelivery.Status.PENDING, schedule_start=F("attempts"),
                           next_retry_at=now, updated_at=now))
        if not updated:
            raise Conflict("This delivery is being sent right now; try again in a moment.")
        enqueue_on_commit(SEND_TASK, delivery.pk, task_name=f"webhook delivery {delivery.pk}")
    delivery.refresh_from_db()
    return delivery

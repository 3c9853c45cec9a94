"""Sending a delivery: claim it, POST the signed envelope through the egress guard, log the attempt, reschedule.

A claim is a compare-and-set on `claimed_until` (one conditional UPDATE, atomic on SQLite and
PostgreSQL alike), so two workers never send the same attempt at once; the lease outlives any
attempt's timeouts, and a sender killed mid-request leaves a lease that simply expires.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from apps.core.crypto import SecretDecryptionError
from apps.core.logging import redact, register_secret
from apps.endpoints.selectors import allowlist_current
from apps.engine import egress
from apps.webhooks import schedule
from apps.webhooks.models import WebhookAttempt, WebhookConfig, WebhookDelivery
from apps.webhooks.outbox import SEND_TASK
from apps.webhooks.services import webhook_disable
from apps.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
EXCERPT_BYTES = 1024
USER_AGENT = "PromptLooper-Webhooks/1"
SWEEP_BATCH = 500


@dataclass
class Outcome:
    status_code: int | None = None
    latency_ms: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _claim(delivery_id: int, now: datetime) -> datetime | None:
    """Take the lease on a pending delivery that is due (or not yet tried in its schedule); None if not ours."""
    lease = now + LEASE
    due = Q(attempts=F("schedule_start")) | Q(next_retry_at__lte=now)
    taken = (WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
             .filter(due).filter(_unclaimed(now)).update(claimed_until=lease))
    return lease if taken else None


def _excerpt(raw: bytes) -> str:
    return redact(raw[:EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", ""))


def _post(webhook: WebhookConfig, delivery: WebhookDelivery) -> Outcome:
    """One HTTP attempt; every failure becomes an Outcome, never an exception."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    try:
        headers = webhook.get_headers()
        secret = webhook.get_secret() if webhook.has_secret else ""
    except SecretDecryptionError:
        return Outcome(error="The stored signing secret or headers cannot be decrypted (check ENCRYPTION_KEYS).")
    for value in [secret, *headers.values()]:
        register_secret(value)
    headers = {**headers, "content-type": "application/json", "user-agent": USER_AGENT}
    sent_at = timezone.now()  # the signature's timestamp is the wall clock, which receivers compare with theirs
    if secret:
        headers.update(signed_headers(secret=secret, message_id=delivery.message_id, timestamp=sent_at, body=body))
    else:
        headers.update({"webhook-id": delivery.message_id, "webhook-timestamp": str(int(sent_at.timestamp()))})
    client = egress.sync_client(
        policy=egress.Policy.WEBHOOK, allowlist=allowlist_current(), max_connections=1,
        connect_timeout_s=settings.WEBHOOK_CONNECT_TIMEOUT_S, read_timeout_s=settings.WEBHOOK_READ_TIMEOUT_S,
    )
    started = time.monotonic()
    outcome = Outcome()
    try:
        with client, client.stream("POST", webhook.url, content=body.encode(), headers=headers) as response:
            outcome.status_code = response.status_code
            outcome.retry_after = response.headers.get("retry-after")
            egress.raise_for_redirect(response)
            raw = bytearray()
            for chunk in response.iter_bytes():  # only the excerpt is kept, so stop reading there
                raw += chunk
                if len(raw) >= EXCERPT_BYTES:
                    break
            outcome.excerpt = _excerpt(bytes(raw))
    except egress.EgressDenied as exc:
        outcome.error = f"Refused by the egress policy (webhooks reach public addresses only): {exc}"
    except egress.RedirectNotFollowed as exc:
        outcome.error = f"The receiver answered with a {exc}"
    except httpx.TimeoutException as exc:
        outcome.error = f"Timed out ({type(exc).__name__}; connect {settings.WEBHOOK_CONNECT_TIMEOUT_S:g} s, " \
                        f"read {settings.WEBHOOK_READ_TIMEOUT_S:g} s)."
    except httpx.HTTPError as exc:
        outcome.error = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    # A 2xx whose body then stalled still counts: the receiver said it took the event.
    outcome.latency_ms = round((time.monotonic() - started) * 1000)
    return outcome


def _next_try(delivery: WebhookDelivery, number: int, outcome: Outcome, now: datetime) -> datetime | None:
    if outcome.succeeded or outcome.status_code == 410:
        return None
    delay = schedule.retry_delay(number - delivery.schedule_start)
    if delay is None:
        return None  # the schedule has ended; a Retry-After cannot extend it
    waited = schedule.retry_after(outcome.retry_after, now=now, cap_s=settings.WEBHOOK_RETRY_AFTER_CAP_S)
    return now + (waited if waited is not None else delay)


def _record(delivery: WebhookDelivery, lease: datetime, outcome: Outcome, now: datetime) -> WebhookAttempt | None:
    number = delivery.attempts + 1
    next_at = _next_try(delivery, number, outcome, now)
    status = (WebhookDelivery.Status.SUCCEEDED if outcome.succeeded
              else WebhookDelivery.Status.PENDING if next_at else WebhookDelivery.Status.FAILED)
    error = outcome.error or ("" if outcome.succeeded else f"HTTP {outcome.status_code}")
    with transaction.atomic():
        kept = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=lease).update(
            status=status, attempts=number, status_code=outcome.status_code, latency_ms=outcome.latency_ms,
            response_excerpt=outcome.excerpt, last_error=error, next_retry_at=next_at, claimed_until=None,
            updated_at=timezone.now(),
        )
        if not kept:
            return None  # the lease ran out and another sender took over; its attempt is the one logged
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=number, started_at=now, status_code=outcome.status_code,
            latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt, error=error, next_retry_at=next_at,
        )
        webhooks = WebhookConfig.objects.filter(pk=delivery.webhook_id)
        if outcome.succeeded:
            webhooks.update(consecutive_failures=0)
            return attempt
        webhooks.update(consecutive_failures=F("consecutive_failures") + 1)
        failures = webhooks.values_list("consecutive_failures", flat=True).first() or 0
        if outcome.status_code == 410:
            webhook_disable(webhook_id=delivery.webhook_id, reason="The receiver answered 410 Gone.")
        elif failures >= settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES:
            webhook_disable(webhook_id=delivery.webhook_id,
                            reason=f"{failures} delivery attempts in a row failed (last: {error[:150]}).")
    return attempt


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> WebhookAttempt | None:
    """Make the next attempt of a delivery if it is due and nobody else holds it; returns the logged attempt."""
    now = now or timezone.now()
    lease = _claim(delivery_id, now)
    if lease is None:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    if not delivery.webhook.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id, claimed_until=lease).update(
            status=WebhookDelivery.Status.FAILED, last_error="Not sent: the webhook is disabled.",
            next_retry_at=None, claimed_until=None,
        )
        return None
    outcome = _post(delivery.webhook, delivery)
    if not outcome.succeeded:
        logger.info("Webhook delivery %s attempt %d failed: %s", delivery.pk, delivery.attempts + 1,
                    outcome.error or f"HTTP {outcome.status_code}")
    return _record(delivery, lease, outcome, now)


def deliveries_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending deliveries whose time has come and that no sender holds, oldest due first."""
    now = now or timezone.now()
    return list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_retry_at__lte=now)
                .filter(_unclaimed(now)).order_by("next_retry_at").values_list("pk", flat=True)[:limit])


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Ring a send task for every due delivery: retries, and first sends whose on-commit ring was lost."""
    due = deliveries_due(now=now)
    for delivery_id in due:
        # A duplicate ring is harmless: the claim lets only one sender through.
        async_task(SEND_TASK, delivery_id, now, task_name=f"webhook delivery {delivery_id}")
    if due:
        logger.info("Queued %d due webhook deliveries", len(due))
    return len(due)

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models

from apps.activity.kinds import webhook_kinds
from apps.core import crypto

EVENT_TYPES = webhook_kinds()


class WebhookConfig(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks",
        help_text="Only this project's events; blank for all of the owner's projects.",
    )
    event_types = models.JSONField(default=list)
    url = models.URLField(max_length=1000)
    headers_encrypted = models.TextField(blank=True, editable=False)
    secret_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    # Failed attempts since the last success; reaching WEBHOOK_MAX_CONSECUTIVE_FAILURES disables the webhook.
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "is_active"])]

    def __str__(self) -> str:
        return self.url

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    def set_headers(self, headers: dict[str, str]) -> None:
        self.headers_encrypted = crypto.encrypt(json.dumps(headers)) if headers else ""

    def get_headers(self) -> dict[str, str]:
        return json.loads(crypto.decrypt(self.headers_encrypted)) if self.headers_encrypted else {}

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret)

    def get_secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookDelivery(models.Model):
    """One event for one webhook: the outbox row, written in the event's transaction, then sent and retried."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    webhook = models.ForeignKey(WebhookConfig, on_delete=models.CASCADE, related_name="deliveries")
    # Null for test events, which have no timeline row.
    event = models.ForeignKey(
        "activity.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=50, default="")
    # The Standard Webhooks `webhook-id`: the same on every attempt, so receivers can deduplicate.
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id, editable=False)
    payload = models.JSONField(default=dict, help_text="The envelope sent, built once when the event was recorded.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The attempt count when the current retry schedule began (a redelivery starts a new one).
    schedule_start = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # A sender's lease: while it is in the future nobody else sends this delivery.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="one_delivery_per_webhook_event")
        ]
        indexes = [
            models.Index(fields=["status", "next_retry_at"]),
            models.Index(fields=["webhook", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as the delivery log shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_number_per_delivery")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

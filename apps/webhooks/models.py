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


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    webhook = models.ForeignKey(WebhookConfig, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("activity.Event", on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="one_delivery_per_webhook_event")
        ]
        indexes = [models.Index(fields=["status", "next_retry_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.webhook_id}"

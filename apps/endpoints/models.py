from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from apps.core import crypto
from apps.engine.providers import PROVIDERS


class Endpoint(models.Model):
    """An LLM server. Its API key is encrypted at rest and bound to the URL's origin."""

    # One kind per adapter in the engine's provider registry: Kind.OPENAI, Kind.ANTHROPIC, …
    Kind = models.TextChoices("Kind", [(kind.upper(), (kind, label)) for kind, label in PROVIDERS.choices()])

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="endpoints")
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OPENAI)
    base_url = models.URLField(max_length=500)
    api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_last4 = models.CharField(max_length=4, blank=True, editable=False)
    max_concurrency = models.PositiveSmallIntegerField(default=4)
    connect_timeout_s = models.FloatField(default=5.0)
    read_timeout_s = models.FloatField(default=120.0)
    model_prices = models.JSONField(
        default=dict, blank=True, help_text='USD per 1M tokens: {"model": {"input": 0.15, "output": 0.6}}'
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["owner", "label"], name="endpoint_label_unique_per_owner")]
        indexes = [models.Index(fields=["owner", "label"])]

    def __str__(self) -> str:
        return self.label

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)

    @property
    def origin(self) -> tuple[str, str, int | None]:
        return url_origin(self.base_url)

    def set_api_key(self, raw: str) -> None:
        self.api_key_encrypted = crypto.encrypt(raw)
        self.api_key_last4 = crypto.last4(raw)

    def get_api_key(self) -> str:
        return crypto.decrypt(self.api_key_encrypted)


def url_origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default

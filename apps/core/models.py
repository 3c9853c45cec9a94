from __future__ import annotations

from django.conf import settings
from django.db import models


class SystemSettings(models.Model):
    """The instance-wide settings singleton, edited in the admin or at /api/v1/admin/settings."""

    allow_guest_access = models.BooleanField(default=False, help_text="Anonymous visitors may read (never write).")
    default_endpoint = models.ForeignKey(
        "endpoints.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_model = models.CharField(max_length=200, blank=True)
    max_concurrent_runs = models.PositiveIntegerField(default=4)
    max_tokens_per_sweep = models.PositiveBigIntegerField(default=0, help_text="0 means unlimited.")
    max_calls_per_sweep = models.PositiveIntegerField(default=100_000)
    egress_allowlist = models.TextField(
        blank=True,
        help_text="One exception per line: a host, an IP or a CIDR, optionally with :port.",
    )
    setup_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    setup_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "system settings"
        verbose_name_plural = "system settings"

    def __str__(self) -> str:
        return "System settings"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> SystemSettings:
        obj, _ = cls.objects.get_or_create(
            pk=1,
            defaults={
                "max_concurrent_runs": settings.MAX_CONCURRENT_RUNS,
                "max_tokens_per_sweep": settings.MAX_TOKENS_PER_SWEEP,
                "max_calls_per_sweep": settings.MAX_CALLS_PER_SWEEP,
            },
        )
        return obj

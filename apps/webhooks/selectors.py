from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.webhooks.models import WebhookConfig


def webhook_list(*, user) -> QuerySet[WebhookConfig]:
    """The user's own webhooks; never anyone else's, never a guest's."""
    if not user.is_authenticated:
        return WebhookConfig.objects.none()
    return WebhookConfig.objects.filter(owner=user).select_related("project").order_by("-created_at")


def webhook_get(*, user, webhook_id) -> WebhookConfig:
    return get_object_or_404(webhook_list(user=user), pk=webhook_id)

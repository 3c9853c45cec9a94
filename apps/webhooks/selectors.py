from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.webhooks.models import WebhookConfig, WebhookDelivery


def webhook_list(*, user: Viewer) -> QuerySet[WebhookConfig]:
    """The user's own webhooks; never anyone else's, never a guest's."""
    qs = visible_to(WebhookConfig.objects.all(), user, guest_readable=False)
    return qs.select_related("project").order_by("-created_at")


def webhook_get(*, user: Viewer, webhook_id: Id) -> WebhookConfig:
    return get_object_or_404(webhook_list(user=user), pk=webhook_id)


def delivery_list(*, user: Viewer, webhook_id: Id) -> QuerySet[WebhookDelivery]:
    """A webhook's delivery log, newest first, each with its attempts (404 for anyone but the owner)."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    return (webhook.deliveries.select_related("webhook").prefetch_related("attempt_log")
            .order_by("-created_at", "-id"))


def delivery_get(*, user: Viewer, webhook_id: Id, delivery_id: Id) -> WebhookDelivery:
    return get_object_or_404(delivery_list(user=user, webhook_id=webhook_id), pk=delivery_id)

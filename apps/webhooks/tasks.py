"""django-q2 tasks: they take ids and call one service."""

from __future__ import annotations

from datetime import datetime

from apps.webhooks import delivery


def webhook_delivery_send(delivery_id: int, now: datetime | None = None) -> None:
    delivery.delivery_send(delivery_id=delivery_id, now=now)


def webhook_deliveries_sweep() -> int:
    return delivery.deliveries_sweep()

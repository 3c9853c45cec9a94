"""Webhooks can subscribe to every event kind that is announced to owners, including failed sweeps."""

import pytest

from apps.activity.kinds import Kind
from apps.webhooks.models import WebhookConfig

pytestmark = pytest.mark.django_db


def test_a_webhook_can_subscribe_to_failed_sweeps(api):
    body = {"url": "https://hooks.example.com/in", "event_types": [Kind.SWEEP_FAILED, "run.failed"]}
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201, response.content
    assert WebhookConfig.objects.get(pk=response.json()["id"]).event_types == ["experiment.failed", "run.failed"]

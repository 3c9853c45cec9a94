"""Event kinds are declared once: webhooks offer exactly the kinds marked for them."""

import pytest

from apps.activity.kinds import Kind, webhook_kinds
from apps.webhooks.models import WebhookConfig

pytestmark = pytest.mark.django_db

TIMELINE_ONLY = [kind for kind in Kind if not kind.webhook]


def subscribe(api, event_types):
    return api.post("/api/v1/webhooks", {"url": "https://hooks.example.com/in", "event_types": event_types},
                    format="json")


def test_a_webhook_may_subscribe_to_every_webhook_kind(api):
    response = subscribe(api, webhook_kinds())
    assert response.status_code == 201, response.content
    assert WebhookConfig.objects.get().event_types == webhook_kinds()


@pytest.mark.parametrize("kind", TIMELINE_ONLY, ids=str)
def test_a_webhook_may_not_subscribe_to_a_timeline_only_kind(api, kind):
    response = subscribe(api, [kind])
    assert response.status_code == 400
    assert "Unknown event type" in str(response.json()["event_types.0"])
    assert not WebhookConfig.objects.exists()


def test_the_webhook_kinds_are_the_documented_ones_in_their_documented_order(api):
    response = subscribe(api, [])
    assert response.json()["event_types"] == [
        "Choose at least one of: experiment.started, experiment.completed, experiment.paused, experiment.failed, "
        "new_best_found, budget.exhausted, human_needed, run.failed, version.activated, ab.completed."
    ]


def test_every_kind_says_what_it_means():
    assert all(kind.description for kind in Kind)
    assert len({kind.value for kind in Kind}) == len(Kind)

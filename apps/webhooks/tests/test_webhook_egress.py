"""Webhook URLs pointing at private or metadata addresses, or that cannot be requested, are refused when saved."""

import pytest

from apps.webhooks.models import WebhookConfig

REFUSED = [
    "http://127.0.0.1:9000/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5/hook",
    "http://2130706433/hook",
    "http://[::ffff:127.0.0.1]/hook",
    # Spellings that clients resolve differently, or not at all:
    "http://0177.0.0.1/x",
    "http://127.000.000.001/x",
    "http://[::1/x",
    "http://0251.0376.0251.0376:8000/v1",
    "http://8.8.8.010/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_webhook_url_that_is_private_metadata_or_unrequestable_is_refused_naming_url(create_webhook, url):
    response = create_webhook(url)
    assert response.status_code == 400
    assert response.json()["url"]
    assert not WebhookConfig.objects.exists()


def test_an_allowlisted_loopback_port_is_accepted(create_webhook, admin_api):
    admin_api.put("/api/v1/admin/settings", {"egress_allowlist": "127.0.0.1:9000"}, format="json")
    response = create_webhook("http://127.0.0.1:9000/h")
    assert response.status_code == 201, response.content
    other = create_webhook("http://127.0.0.1:9001/h")
    assert other.status_code == 400


def test_the_admin_form_refuses_a_loopback_webhook_with_a_form_error(add_in_admin):
    response = add_in_admin("http://127.0.0.1:9000/h")
    assert response.status_code == 200
    assert b"public addresses" in response.content

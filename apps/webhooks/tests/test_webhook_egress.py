import pytest

METADATA_AND_PRIVATE = [
    "http://127.0.0.1:9000/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5/hook",
    "http://2130706433/hook",
    "http://[::ffff:127.0.0.1]/hook",
]


@pytest.mark.parametrize("url", METADATA_AND_PRIVATE)
def test_a_webhook_to_a_private_or_metadata_address_is_refused_naming_url(api, url):
    response = api.post("/api/v1/webhooks", {"url": url, "event_types": ["run.failed"]}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()


def test_an_allowlisted_loopback_port_is_accepted(api, admin_api):
    admin_api.put("/api/v1/admin/settings", {"egress_allowlist": "127.0.0.1:9000"}, format="json")
    response = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9000/h", "event_types": ["run.failed"]},
                        format="json")
    assert response.status_code == 201, response.content
    other = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9001/h", "event_types": ["run.failed"]},
                     format="json")
    assert other.status_code == 400


def test_the_admin_form_refuses_a_loopback_webhook_with_a_form_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/admin/webhooks/webhookconfig/add/", {
        "owner": admin_user.pk, "url": "http://127.0.0.1:9000/h", "event_types": ["run.failed"], "is_active": "on",
    })
    assert response.status_code == 200
    assert b"public addresses" in response.content

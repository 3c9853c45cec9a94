"""Saving a webhook to a given URL, the two ways a user can: the REST API and the Django admin form."""

import pytest


@pytest.fixture
def create_webhook(api):
    """`create(url)`: the owner's REST request for a run.failed webhook to `url`."""
    def create(url: str):
        return api.post("/api/v1/webhooks", {"url": url, "event_types": ["run.failed"]}, format="json")
    return create


@pytest.fixture
def add_in_admin(client, admin_user):
    """`add(url)`: an admin's submission of the admin's add-webhook form for `url`."""
    client.force_login(admin_user)

    def add(url: str):
        return client.post("/admin/webhooks/webhookconfig/add/", {
            "owner": admin_user.pk, "url": url, "event_types": ["run.failed"], "is_active": "on",
        })
    return add

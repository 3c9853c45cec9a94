"""Admin forms for endpoints and webhooks: secrets shown masked, replaced, cleared on an origin change."""

from __future__ import annotations

import pytest

from apps.core import crypto
from apps.endpoints.models import Endpoint
from apps.instance.tests.conftest import (
    HEADER_VALUE,
    RAW_KEY,
    RAW_SECRET,
    admin_url,
    inline_data,
)
from apps.webhooks.models import WebhookConfig


def endpoint_form(endpoint: Endpoint, **changes) -> dict:
    data = {
        "owner": endpoint.owner_id, "label": endpoint.label, "kind": endpoint.kind, "base_url": endpoint.base_url,
        "is_active": "on", "max_concurrency": 4, "connect_timeout_s": 5, "read_timeout_s": 120,
        "model_prices": '{"m": {"input": 0.15, "output": 0.6}}', "new_api_key": "", "_save": "Save",
    }
    return {**data, **changes}


def test_endpoint_pages_show_only_the_last_four_of_the_key(staff, world):
    pages = [
        staff.get(admin_url(Endpoint, "change", world.endpoint.pk)).content.decode(),
        staff.get(admin_url(Endpoint, "changelist")).content.decode(),
    ]

    for page in pages:
        assert RAW_KEY not in page
        assert world.endpoint.api_key_encrypted not in page
        assert "set · …9f8e" in page


def test_a_new_key_entered_in_the_admin_is_stored_encrypted(staff, world):
    new_key = "sk-fresh-key-from-admin-4321"

    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint,
                                                                                             new_api_key=new_key))

    assert response.status_code == 302
    world.endpoint.refresh_from_db()
    assert new_key not in world.endpoint.api_key_encrypted
    assert crypto.decrypt(world.endpoint.api_key_encrypted) == new_key
    assert world.endpoint.api_key_last4 == "4321"
    assert world.endpoint.model_prices == {"m": {"input": 0.15, "output": 0.6}}


def test_saving_without_a_new_key_keeps_the_key(staff, world):
    form = endpoint_form(world.endpoint, base_url="http://127.0.0.1:8000/v2", label="Renamed")

    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), form)

    world.endpoint.refresh_from_db()
    assert world.endpoint.label == "Renamed"
    assert world.endpoint.get_api_key() == RAW_KEY


@pytest.mark.parametrize("new_url", ["http://evil.example.com:8000/v1", "http://127.0.0.1:9000/v1",
                                     "https://127.0.0.1:8000/v1"])
def test_changing_the_endpoint_origin_without_a_new_key_clears_the_key(staff, world, new_url):
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint,
                                                                                             base_url=new_url))

    assert response.status_code == 302
    world.endpoint.refresh_from_db()
    assert world.endpoint.base_url == new_url
    assert not world.endpoint.has_api_key
    assert world.endpoint.api_key_last4 == ""


def test_changing_the_origin_with_a_new_key_keeps_the_new_key(staff, world):
    form = endpoint_form(world.endpoint, base_url="https://api.example.com/v1", new_api_key="sk-for-new-host-0000")

    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), form)

    world.endpoint.refresh_from_db()
    assert world.endpoint.get_api_key() == "sk-for-new-host-0000"


def test_the_clear_key_box_clears_the_key(staff, world):
    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint, clear_api_key="on"))

    world.endpoint.refresh_from_db()
    assert not world.endpoint.has_api_key


@pytest.mark.parametrize("changes", [
    {"new_api_key": "sk-new-key-1234", "clear_api_key": "on"},
    {"base_url": "file:///etc/passwd"},
    {"model_prices": '{"m": {"input": -1}}'},
    {"new_api_key": "sk-line\nbreak-key"},
])
def test_bad_endpoint_input_is_refused_and_nothing_changes(staff, world, changes):
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint, **changes))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    world.endpoint.refresh_from_db()
    assert world.endpoint.get_api_key() == RAW_KEY
    assert world.endpoint.base_url == "http://127.0.0.1:8000/v1"


def test_an_endpoint_can_be_added_with_a_key(staff, world, owner):
    form = endpoint_form(world.endpoint, label="Ollama", base_url="http://10.0.0.5:11434/v1",
                         new_api_key="ollama-key-5678")

    assert staff.post(admin_url(Endpoint, "add"), form).status_code == 302
    assert Endpoint.objects.get(owner=owner, label="Ollama").get_api_key() == "ollama-key-5678"


def webhook_form(page, webhook: WebhookConfig, **changes) -> dict:
    data = {
        "owner": webhook.owner_id, "project": webhook.project_id, "url": webhook.url, "is_active": "on",
        "event_types": webhook.event_types, "new_secret": "", "new_headers": "", "_save": "Save",
    }
    return {**data, **inline_data(page), **changes}


def test_webhook_page_shows_header_names_but_no_secret_values(staff, world):
    page = staff.get(admin_url(WebhookConfig, "change", world.webhook.pk)).content.decode()

    assert "Authorization" in page
    for hidden in (RAW_SECRET, HEADER_VALUE, world.webhook.secret_encrypted, world.webhook.headers_encrypted):
        assert hidden not in page


def test_webhook_secret_and_headers_are_replaced_through_the_admin(staff, world):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    form = webhook_form(staff.get(url), world.webhook, new_secret="whsec-new-secret-1111",
                        new_headers="X-Token: abc\nX-Team: ops", event_types=["run.failed", "new_best_found"])

    assert staff.post(url, form).status_code == 302

    world.webhook.refresh_from_db()
    assert world.webhook.get_secret() == "whsec-new-secret-1111"
    assert world.webhook.get_headers() == {"X-Token": "abc", "X-Team": "ops"}
    assert world.webhook.event_types == ["run.failed", "new_best_found"]


def test_changing_the_webhook_host_clears_its_secret_and_headers(staff, world):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    form = webhook_form(staff.get(url), world.webhook, url="https://elsewhere.example.net/pl")

    assert staff.post(url, form).status_code == 302

    world.webhook.refresh_from_db()
    assert not world.webhook.has_secret
    assert world.webhook.get_headers() == {}


@pytest.mark.parametrize("changes", [
    {"new_headers": "Host: evil.example.com"},
    {"new_headers": "not a header line"},
    {"event_types": ["no.such.event"]},
])
def test_bad_webhook_input_is_refused_and_nothing_changes(staff, world, changes):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)

    response = staff.post(url, webhook_form(staff.get(url), world.webhook, **changes))

    assert response.status_code == 200
    world.webhook.refresh_from_db()
    assert world.webhook.get_headers() == {"Authorization": HEADER_VALUE}
    assert world.webhook.event_types == ["run.failed"]


def test_a_webhook_cannot_point_at_another_users_project(staff, world, other_user):
    url = admin_url(WebhookConfig, "add")
    form = {"owner": other_user.pk, "project": world.project.pk, "url": "https://hooks.example.com/other",
            "event_types": ["run.failed"], "is_active": "on", "new_secret": "", "new_headers": "", "_save": "Save"}

    response = staff.post(url, {**form, **inline_data(staff.get(url))})

    assert response.context["adminform"].form.errors["project"] == ["No project of yours has this id."]
    assert not WebhookConfig.objects.filter(owner=other_user).exists()


def test_a_webhook_added_without_a_secret_gets_a_generated_one_shown_once(staff, world, owner):
    url = admin_url(WebhookConfig, "add")
    form = {"owner": owner.pk, "project": "", "url": "https://hooks.example.com/new", "event_types": ["run.failed"],
            "is_active": "on", "new_secret": "", "new_headers": "", "_save": "Save"}

    response = staff.post(url, {**form, **inline_data(staff.get(url))}, follow=True)

    webhook = WebhookConfig.objects.get(url="https://hooks.example.com/new")
    assert webhook.get_secret().startswith("whsec_")
    assert webhook.get_secret() in response.content.decode()
    assert webhook.get_secret() not in staff.get(admin_url(WebhookConfig, "change", webhook.pk)).content.decode()


def test_the_owner_of_an_existing_webhook_cannot_be_changed_in_the_admin(staff, world, other_user):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)

    response = staff.post(url, webhook_form(staff.get(url), world.webhook, owner=other_user.pk, project=""))

    assert response.status_code == 302
    world.webhook.refresh_from_db()
    assert world.webhook.owner == world.project.owner

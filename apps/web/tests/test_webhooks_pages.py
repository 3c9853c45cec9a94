"""The webhooks pages: list, add (a generated secret shown once), edit, delete, and the delivery log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.activity.kinds import webhook_kinds
from apps.projects.services import project_create
from apps.webhooks.delivery import delivery_send
from apps.webhooks.models import WebhookConfig, WebhookDelivery
from apps.webhooks.outbox import delivery_test_create
from apps.webhooks.services import webhook_create, webhook_disable

pytestmark = pytest.mark.django_db

URL = "https://93.184.216.34/hooks"


def make(owner, *, url=URL, project=None) -> WebhookConfig:
    webhook, _ = webhook_create(owner=owner, url=url, event_types=["new_best_found"],
                                project_id=project.pk if project else None)
    return webhook


def test_the_list_shows_my_webhooks_and_not_anyone_elses(client, owner, other_user):
    make(owner, url="https://93.184.216.34/mine")
    make(other_user, url="https://93.184.216.34/theirs")
    client.force_login(owner)
    html = client.get(reverse("web:webhooks")).content.decode()
    assert "/mine" in html and "/theirs" not in html and "new_best_found" in html


def test_the_list_is_paginated_and_htmx_gets_only_the_list(client, owner):
    for number in range(30):
        make(owner, url=f"https://93.184.216.34/hook-{number:02d}")
    client.force_login(owner)
    html = client.get(reverse("web:webhooks"), {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="webhook-list"') and "<html" not in html
    assert "Page 2 of 2" in html and html.count("<code>https://93.184.216.34/hook-") == 5


def test_the_form_offers_every_webhook_event_and_only_my_projects(client, owner, other_user):
    project_create(owner=owner, name="My project")
    project_create(owner=other_user, name="Their project")
    client.force_login(owner)
    html = client.get(reverse("web:webhook_create")).content.decode()
    for kind in webhook_kinds():
        assert f'value="{kind}"' in html
    assert 'type="checkbox"' in html and "run.completed" not in html
    assert "My project" in html and "Their project" not in html


def test_adding_a_webhook_shows_its_generated_secret_once(client, owner):
    project = project_create(owner=owner, name="My project")
    client.force_login(owner)
    response = client.post(reverse("web:webhook_create"), {
        "url": URL, "event_types": ["new_best_found", "run.failed"], "project": str(project.pk)})
    assert response.status_code == 201
    webhook = WebhookConfig.objects.get(owner=owner)
    assert webhook.event_types == ["new_best_found", "run.failed"] and webhook.project == project
    secret = webhook.get_secret()
    assert secret.startswith("whsec_") and secret in response.content.decode()
    assert "It will not be shown again" in response.content.decode()
    assert secret not in client.get(reverse("web:webhooks")).content.decode()


def test_a_webhook_to_a_private_address_is_refused_next_to_the_url(client, owner):
    client.force_login(owner)
    data = {"url": "http://127.0.0.1/hook", "event_types": ["run.failed"]}
    response = client.post(reverse("web:webhook_create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    assert 'id="id_url_error"' in response.content.decode() and not WebhookConfig.objects.exists()


def test_a_webhook_needs_at_least_one_event(client, owner):
    client.force_login(owner)
    response = client.post(reverse("web:webhook_create"), {"url": URL})
    assert response.status_code == 400
    assert response.context["form"].errors["event_types"] == ["Choose at least one event."]


def test_another_users_project_cannot_be_chosen(client, owner, other_user):
    theirs = project_create(owner=other_user, name="Their project")
    client.force_login(owner)
    response = client.post(reverse("web:webhook_create"),
                           {"url": URL, "event_types": ["run.failed"], "project": str(theirs.pk)})
    assert response.status_code == 400 and "project" in response.context["form"].errors
    assert not WebhookConfig.objects.exists()


def test_deleting_asks_first_then_deletes(client, owner):
    webhook = make(owner)
    client.force_login(owner)
    confirm = client.get(reverse("web:webhook_delete", args=[webhook.pk])).content.decode()
    assert "Delete the webhook to" in confirm and WebhookConfig.objects.exists()
    done = client.post(reverse("web:webhook_delete", args=[webhook.pk]), follow=True)
    assert f"Webhook to {URL} deleted." in done.content.decode() and not WebhookConfig.objects.exists()


def test_another_users_webhook_is_not_found(client, owner, other_user):
    webhook = make(other_user)
    client.force_login(owner)
    assert client.get(reverse("web:webhook_delete", args=[webhook.pk])).status_code == 404
    assert client.post(reverse("web:webhook_delete", args=[webhook.pk])).status_code == 404
    assert WebhookConfig.objects.filter(pk=webhook.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in_even_with_guest_access(client, admin_user, guest_mode):
    webhook = make(admin_user)
    pages = (reverse("web:webhooks"), reverse("web:webhook_create"), reverse("web:webhook_delete", args=[webhook.pk]))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.post(reverse("web:webhook_delete", args=[webhook.pk]))
    client.post(reverse("web:webhook_create"), {"url": URL, "event_types": ["run.failed"]})
    assert list(WebhookConfig.objects.all()) == [webhook]


def test_the_list_links_to_each_webhooks_edit_page(client, owner):
    webhook = make(owner)
    client.force_login(owner)
    html = client.get(reverse("web:webhooks")).content.decode()
    assert f'href="{reverse("web:webhook_edit", args=[webhook.pk])}"' in html


def test_the_edit_page_shows_the_settings_but_never_the_secret_or_header_values(client, owner):
    webhook, _ = webhook_create(owner=owner, url=URL, event_types=["run.failed"],
                                headers={"X-Token": "header-value-1234"})
    client.force_login(owner)
    html = client.get(reverse("web:webhook_edit", args=[webhook.pk])).content.decode()
    assert f'value="{URL}"' in html and 'value="run.failed" id="id_event_types_' in html
    assert "Signing secret: set (never shown again)" in html and "<code>X-Token</code>" in html
    assert webhook.get_secret() not in html and "header-value-1234" not in html
    assert '<label for="id_new_headers">' in html and '<label for="id_is_active">' in html


def test_editing_changes_the_url_and_events_and_keeps_the_secret_on_the_same_server(client, owner):
    webhook = make(owner)
    secret = webhook.get_secret()
    client.force_login(owner)
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]), {
        "url": "https://93.184.216.34/moved", "event_types": ["run.failed", "experiment.completed"], "is_active": "on"},
        follow=True)
    webhook.refresh_from_db()
    assert webhook.url == "https://93.184.216.34/moved"
    assert webhook.event_types == ["run.failed", "experiment.completed"] and webhook.is_active
    assert webhook.get_secret() == secret and secret not in response.content.decode()
    assert "Webhook to https://93.184.216.34/moved saved." in response.content.decode()


def test_moving_the_webhook_to_another_server_removes_its_secret_and_says_so(client, owner):
    webhook = make(owner)
    client.force_login(owner)
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]), {
        "url": "https://93.184.216.35/hooks", "event_types": ["new_best_found"]}, follow=True)
    webhook.refresh_from_db()
    assert not webhook.has_secret and not webhook.is_active
    assert "the signing secret and headers not given anew were removed" in response.content.decode()


def test_a_new_secret_and_new_headers_can_be_set_and_the_secret_is_shown_once(client, owner):
    webhook = make(owner)
    old = webhook.get_secret()
    client.force_login(owner)
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]), {
        "url": URL, "event_types": ["new_best_found"], "is_active": "on", "new_secret": "on",
        "new_headers": "X-Team: evals\nX-Env: prod"})
    webhook.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200 and "It will not be shown again" in html
    assert webhook.get_secret() != old and webhook.get_secret() in html
    assert webhook.get_headers() == {"X-Team": "evals", "X-Env": "prod"}
    assert webhook.get_secret() not in client.get(reverse("web:webhook_edit", args=[webhook.pk])).content.decode()


def test_an_invalid_url_or_header_is_refused_next_to_its_field_and_nothing_changes(client, owner):
    webhook = make(owner)
    client.force_login(owner)
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]),
                           {"url": "http://127.0.0.1/hook", "event_types": ["run.failed"]})
    assert response.status_code == 400 and response.context["form"].errors["url"]
    html = response.content.decode()
    assert 'id="id_url_error"' in html and f"Webhook to <code>{URL}</code>" in html
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]),
                           {"url": URL, "event_types": ["run.failed"], "new_headers": "Webhook-Id: mine"})
    assert response.status_code == 400 and "cannot be overridden" in str(response.context["form"].errors["new_headers"])
    webhook.refresh_from_db()
    assert webhook.url == URL and webhook.event_types == ["new_best_found"] and webhook.get_headers() == {}


def test_stored_headers_can_be_removed(client, owner):
    webhook, _ = webhook_create(owner=owner, url=URL, event_types=["run.failed"], headers={"X-Token": "t"})
    client.force_login(owner)
    client.post(reverse("web:webhook_edit", args=[webhook.pk]),
                {"url": URL, "event_types": ["run.failed"], "is_active": "on", "clear_headers": "on"})
    webhook.refresh_from_db()
    assert webhook.get_headers() == {} and webhook.has_secret


def test_another_users_webhook_cannot_be_edited(client, owner, other_user):
    webhook = make(other_user)
    client.force_login(owner)
    assert client.get(reverse("web:webhook_edit", args=[webhook.pk])).status_code == 404
    response = client.post(reverse("web:webhook_edit", args=[webhook.pk]),
                           {"url": "https://93.184.216.34/stolen", "event_types": ["run.failed"]})
    assert response.status_code == 404
    webhook.refresh_from_db()
    assert webhook.url == URL


def test_a_guest_cannot_open_or_post_the_edit_page(client, admin_user, guest_mode):
    webhook = make(admin_user)
    url = reverse("web:webhook_edit", args=[webhook.pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.post(url, {"url": "https://93.184.216.34/guest", "event_types": ["run.failed"]})
    webhook.refresh_from_db()
    assert webhook.url == URL


# The delivery log on the edit page -------------------------------------------------------------


@pytest.fixture
def receiver(db):
    """A receiver on 127.0.0.1, allowlisted for webhooks as an admin would."""
    from apps.core.models import SystemSettings
    from apps.webhooks.tests.receiver import Receiver

    with Receiver() as server:
        system = SystemSettings.load()
        system.egress_allowlist = f"127.0.0.1:{server.port}"
        system.save()
        yield server


@pytest.fixture
def hook(owner, receiver) -> WebhookConfig:
    return make(owner, url=receiver.url)


def post_hx(client, url: str):
    return client.post(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="webhook-deliveries")


def test_send_test_event_queues_a_delivery_that_the_deliveries_section_shows(client, owner, hook, receiver):
    client.force_login(owner)
    response = post_hx(client, reverse("web:webhook_test", args=[hook.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section id="webhook-deliveries"')
    assert "<html" not in html and "Test event queued" in html
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert delivery.event_type == "webhook.test" and delivery.status == "pending"
    assert f'id="delivery-{delivery.pk}"' in html and delivery.message_id in html

    delivery_send(delivery_id=delivery.pk)  # what the worker does with the queued task
    page = client.get(reverse("web:webhook_edit", args=[hook.pk])).content.decode()
    [request] = receiver.received
    assert request.headers["webhook-id"] == delivery.message_id
    row = page.split(f'id="delivery-{delivery.pk}"')[1].split("</tr>")[0]
    assert "succeeded" in row and "<td>200</td>" in row and "<code>ok</code>" in row and " ms</td>" in row
    assert "<details>" in row and "HTTP 200" in row  # the attempts, expandable


def test_redeliver_sends_the_same_delivery_again_with_its_webhook_id(client, owner, hook, receiver):
    delivery = delivery_test_create(webhook=hook)
    delivery_send(delivery_id=delivery.pk)
    client.force_login(owner)
    html = post_hx(client, reverse("web:webhook_redeliver", args=[hook.pk, delivery.pk])).content.decode()
    assert "queued again with the same webhook-id" in html
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    delivery_send(delivery_id=delivery.pk)
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.message_id] * 2
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.attempt_log.count() == 2


def test_without_javascript_the_actions_redirect_back_with_a_message(client, owner, hook):
    client.force_login(owner)
    response = client.post(reverse("web:webhook_test", args=[hook.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("web:webhook_edit", args=[hook.pk])
    assert "Test event queued" in response.content.decode() and WebhookDelivery.objects.count() == 1


def test_the_deliveries_are_paginated_and_htmx_gets_only_the_section(client, owner, hook):
    for _ in range(25):
        delivery_test_create(webhook=hook)
    client.force_login(owner)
    html = client.get(reverse("web:webhook_edit", args=[hook.pk]), {"page": 2}, HTTP_HX_REQUEST="true",
                      HTTP_HX_TARGET="webhook-deliveries").content.decode()
    assert html.lstrip().startswith('<section id="webhook-deliveries"') and 'id="id_url"' not in html
    assert "Page 2 of 2" in html and html.count('id="delivery-') == 5


def test_a_disabled_webhook_shows_why_refuses_a_test_event_and_can_be_re_enabled(client, owner, hook):
    delivery = delivery_test_create(webhook=hook)
    webhook_disable(webhook_id=hook.pk, reason="The receiver answered 410 Gone.")
    client.force_login(owner)
    page = client.get(reverse("web:webhook_edit", args=[hook.pk])).content.decode()
    assert "This webhook is switched off" in page and "The receiver answered 410 Gone." in page
    assert 'action="{}"'.format(reverse("web:webhook_enable", args=[hook.pk])) in page

    refused = post_hx(client, reverse("web:webhook_test", args=[hook.pk])).content.decode()
    assert "flash-error" in refused and "This webhook is disabled" in refused
    refused = post_hx(client, reverse("web:webhook_redeliver", args=[hook.pk, delivery.pk])).content.decode()
    assert "flash-error" in refused and "enable it before redelivering" in refused
    assert WebhookDelivery.objects.count() == 1

    done = client.post(reverse("web:webhook_enable", args=[hook.pk]), follow=True).content.decode()
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_reason == "" and hook.consecutive_failures == 0
    assert "switched back on" in done and "This webhook is switched off" not in done
    assert post_hx(client, reverse("web:webhook_test", args=[hook.pk])).status_code == 200
    assert WebhookDelivery.objects.count() == 2


def test_another_users_deliveries_and_actions_are_not_found(client, owner, other_user):
    theirs = make(other_user)
    delivery = delivery_test_create(webhook=theirs)
    webhook_disable(webhook_id=theirs.pk, reason="kept failing")
    client.force_login(owner)
    for url in (reverse("web:webhook_test", args=[theirs.pk]), reverse("web:webhook_enable", args=[theirs.pk]),
                reverse("web:webhook_redeliver", args=[theirs.pk, delivery.pk])):
        assert client.post(url).status_code == 404
    mine = make(owner)
    assert client.post(reverse("web:webhook_redeliver", args=[mine.pk, delivery.pk])).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_active and WebhookDelivery.objects.count() == 1


def test_guests_and_anonymous_visitors_cannot_send_redeliver_or_re_enable(client, admin_user, guest_mode):
    webhook = make(admin_user)
    delivery = delivery_test_create(webhook=webhook)
    webhook_disable(webhook_id=webhook.pk, reason="kept failing")
    for url in (reverse("web:webhook_test", args=[webhook.pk]), reverse("web:webhook_enable", args=[webhook.pk]),
                reverse("web:webhook_redeliver", args=[webhook.pk, delivery.pk])):
        response = client.post(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        assert client.get(url).status_code in (302, 405)
    webhook.refresh_from_db()
    assert not webhook.is_active and WebhookDelivery.objects.count() == 1

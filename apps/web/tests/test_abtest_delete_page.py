"""Deleting an A/B test from its page: a confirmed POST for a test that is not running, refused while it runs."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.deployments.models import AbTest, AbVariant, GatewayRequest, PromptVersion
from apps.deployments.services.abtests import ab_test_create, ab_test_pause, ab_test_start
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_version

pytestmark = pytest.mark.django_db


def make_test(owner) -> AbTest:
    deployment = make_deployment(owner, name="Support bot")
    control, short = make_version(deployment, "You help."), make_version(deployment, "You help briefly.")
    return ab_test_create(deployment=deployment, name="Brevity", variants=[
        {"name": "Control", "version": control, "weight": 1}, {"name": "Short", "version": short, "weight": 1}])


def delete_url(ab_test) -> str:
    return reverse("web:abtest_delete", args=[ab_test.pk])


def delete_form(html: str) -> str | None:
    match = re.search(r'<form method="post" action="[^"]*/delete/"[^>]*>', html)
    return match.group(0) if match else None


def test_a_paused_test_is_deleted_after_a_confirm_that_says_what_goes_and_what_stays(client, owner):
    ab_test = ab_test_start(ab_test=make_test(owner))
    arm = ab_test.variants.order_by("position").first()
    gateway_requests_record(rows=[{
        "request_id": uuid.uuid4(), "deployment_id": ab_test.deployment_id, "ab_test_id": ab_test.pk,
        "variant_id": arm.pk, "version_id": arm.version_id, "model": "fake-chat", "status_code": 200,
        "success": True, "created_at": timezone.now()}])
    ab_test_pause(ab_test=ab_test)
    client.force_login(owner)

    form = delete_form(client.get(reverse("web:abtest", args=[ab_test.pk])).content.decode())
    assert form is not None and delete_url(ab_test) in form
    assert "its 2 variants go" in form and "gateway requests stay" in form and "versions (v1, v2) stay" in form

    response = client.post(delete_url(ab_test), follow=True)

    assert response.redirect_chain == [(reverse("web:deployment_abtests", args=[ab_test.deployment_id]), 302)]
    html = response.content.decode()
    assert "A/B test “Brevity” deleted with its variants. Its versions are kept" in html
    assert reverse("web:abtest", args=[ab_test.pk]) not in html
    assert not AbTest.objects.exists() and not AbVariant.objects.exists() and PromptVersion.objects.count() == 2
    assert GatewayRequest.objects.get().ab_test_id is None


def test_a_running_test_offers_no_delete_and_a_post_shows_why_on_its_page(client, owner):
    ab_test = ab_test_start(ab_test=make_test(owner))
    client.force_login(owner)

    assert delete_form(client.get(reverse("web:abtest", args=[ab_test.pk])).content.decode()) is None
    response = client.post(delete_url(ab_test), follow=True)

    assert response.redirect_chain == [(reverse("web:abtest", args=[ab_test.pk]), 302)]
    assert "This A/B test is running; pause or complete it before deleting it." in response.content.decode()
    assert AbTest.objects.get().status == AbTest.Status.RUNNING


def test_the_delete_form_needs_its_csrf_token_and_a_get_deletes_nothing(owner):
    ab_test = make_test(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    html = client.get(reverse("web:abtest", args=[ab_test.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    assert client.get(delete_url(ab_test)).status_code == 405
    assert client.post(delete_url(ab_test)).status_code == 403
    assert AbTest.objects.exists()
    assert client.post(delete_url(ab_test), {"csrfmiddlewaretoken": token}).status_code == 302
    assert not AbTest.objects.exists()


def test_another_users_test_is_not_found_and_stays(client, owner, other_user):
    theirs = make_test(other_user)
    client.force_login(owner)

    assert client.post(delete_url(theirs)).status_code == 404
    assert client.post(delete_url(theirs), HTTP_HX_REQUEST="true").status_code == 404
    assert AbTest.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize("guest_access", [False, True])
def test_anonymous_visitors_and_guests_are_sent_to_log_in_and_nothing_is_deleted(client, owner, guest_mode,
                                                                                 guest_access):
    guest_mode.allow_guest_access = guest_access
    guest_mode.save()
    ab_test = make_test(owner)

    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(delete_url(ab_test), **headers)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    page = client.get(reverse("web:abtest", args=[ab_test.pk]))
    assert page.status_code == 302 and delete_form(page.content.decode()) is None
    assert AbTest.objects.filter(pk=ab_test.pk).exists()

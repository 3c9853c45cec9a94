"""The API keys page in the app's layout: a new key shown once, the user's own keys listed, revoking."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create

pytestmark = pytest.mark.django_db


def test_the_page_uses_the_app_layout_with_its_navigation(client, owner):
    client.force_login(owner)
    html = client.get(reverse("accounts:api_keys")).content.decode()
    assert '<nav aria-label="Main">' in html and 'aria-current="page">API keys' in html
    assert '<label for="id_name">' in html


def test_a_new_key_is_shown_once(client, owner):
    client.force_login(owner)
    html = client.post(reverse("accounts:api_keys"), {"name": "laptop"}).content.decode()
    key = ApiKey.objects.get(user=owner)
    assert "It will not be shown again" in html and f'value="pl_{key.prefix}_' in html
    again = client.get(reverse("accounts:api_keys")).content.decode()
    assert "It will not be shown again" not in again and f"pl_{key.prefix}_…" in again


def test_only_my_keys_are_listed_and_only_mine_can_be_revoked(client, owner, other_user):
    api_key_create(user=owner, name="mine")
    theirs, _ = api_key_create(user=other_user, name="theirs")
    client.force_login(owner)
    html = client.get(reverse("accounts:api_keys")).content.decode()
    assert "mine" in html and "theirs" not in html
    assert client.post(reverse("accounts:api_key_revoke", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_marks_the_key_revoked(client, owner):
    key, _ = api_key_create(user=owner, name="old")
    client.force_login(owner)
    html = client.post(reverse("accounts:api_key_revoke", args=[key.pk]), follow=True).content.decode()
    assert "API key revoked." in html and "revoked" in html and "Revoke<span" not in html


def test_anonymous_visitors_are_sent_to_log_in_even_with_guest_access(client, guest_mode):
    response = client.get(reverse("accounts:api_keys"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.post(reverse("accounts:api_keys"), {"name": "sneaky"})
    assert not ApiKey.objects.exists()

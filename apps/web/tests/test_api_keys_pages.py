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


def test_the_key_list_is_paginated_newest_first(client, owner):
    for number in range(30):
        api_key_create(user=owner, name=f"key-{number:02d}")
    client.force_login(owner)
    first = client.get(reverse("accounts:api_keys")).content.decode()
    assert "Page 1 of 2" in first and first.count("<td>key-") == 25
    assert "<td>key-29</td>" in first and "<td>key-00</td>" not in first
    second = client.get(reverse("accounts:api_keys"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second and second.count("<td>key-") == 5 and "<td>key-00</td>" in second


def test_the_pager_with_htmx_gets_only_the_key_list(client, owner):
    for number in range(30):
        api_key_create(user=owner, name=f"key-{number:02d}")
    client.force_login(owner)
    response = client.get(reverse("accounts:api_keys"), {"page": 2},
                          headers={"HX-Request": "true", "HX-Target": "api-key-list"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="table-wrap" id="api-key-list">') and "<html" not in html
    assert "Page 2 of 2" in html and html.count("<td>key-") == 5 and "Create key" not in html


def test_a_short_key_list_has_no_pager(client, owner):
    api_key_create(user=owner, name="only")
    client.force_login(owner)
    assert 'class="pagination"' not in client.get(reverse("accounts:api_keys")).content.decode()

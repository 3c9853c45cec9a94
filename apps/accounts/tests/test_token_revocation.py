"""Login tokens die with the password they were issued against; API keys are revoked explicitly."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_key_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


def login(password: str):
    return APIClient().post("/api/v1/auth/login", {"username": "owner", "password": password}, format="json")


def me(token: str):
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me")


def test_a_login_token_issued_before_a_password_change_is_refused_after_it(owner):
    token = login(PASSWORD).json()["access_token"]
    assert me(token).status_code == 200
    owner.set_password(NEW_PASSWORD)
    owner.save()
    assert me(token).status_code == 401
    fresh = login(NEW_PASSWORD)
    assert fresh.status_code == 200
    assert me(fresh.json()["access_token"]).status_code == 200


def test_a_login_token_stays_valid_when_the_password_does_not_change(owner):
    token = login(PASSWORD).json()["access_token"]
    owner.first_name = "Olive"
    owner.save()
    assert me(token).status_code == 200


def test_a_login_token_of_a_deactivated_user_is_refused(owner):
    token = login(PASSWORD).json()["access_token"]
    owner.is_active = False
    owner.save()
    assert me(token).status_code == 401


def test_an_api_key_keeps_working_after_a_password_change(owner):
    _, raw = api_key_create(user=owner, name="ci")
    owner.set_password(NEW_PASSWORD)
    owner.save()
    assert me(raw).status_code == 200

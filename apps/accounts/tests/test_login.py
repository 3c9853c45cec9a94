import pytest
from rest_framework.test import APIClient

from apps.accounts.tokens import token_issue

PASSWORD = "correct horse battery"


def login(username: str, password: str):
    return APIClient().post("/api/v1/auth/login", {"username": username, "password": password}, format="json")


def test_login_returns_a_bearer_token_that_authenticates(owner):
    response = login("owner", PASSWORD)
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "owner"


def test_a_wrong_password_gets_401(owner):
    assert login("owner", "nope").status_code == 401


def test_repeated_failures_lock_the_account_even_with_the_right_password(owner, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("owner", "wrong")
    response = login("owner", PASSWORD)
    assert response.status_code == 429


def test_the_html_login_shares_the_lockout(owner, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login("owner", "wrong")
    response = client.post("/login/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 429


def test_an_expired_token_is_refused(owner, settings):
    settings.JWT_TTL_SECONDS = -10
    token, _ = token_issue(user_id=owner.pk)
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me")
    assert response.status_code == 401


def test_a_token_signed_with_another_secret_is_refused(owner, settings):
    settings.JWT_SECRET = "other-secret"
    token, _ = token_issue(user_id=owner.pk)
    settings.JWT_SECRET = "the-real-secret"
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/auth/me").status_code == 401


def test_me_without_credentials_is_401(anon_api):
    assert anon_api.get("/api/v1/auth/me").status_code == 401


def test_the_html_login_and_logout_work(owner, client):
    response = client.post("/login/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_logout_by_get_is_not_allowed(owner, client):
    client.force_login(owner)
    assert client.get("/logout/").status_code == 405


def test_the_login_form_needs_a_csrf_token(owner):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_login_never_redirects_off_site(owner, client, next_url):
    response = client.post(f"/login/?next={next_url}", {"username": "owner", "password": PASSWORD})
    assert response["Location"] == "/"

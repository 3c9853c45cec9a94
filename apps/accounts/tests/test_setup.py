import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services import setup_complete, setup_token_issue
from apps.core.errors import ServiceError

PASSWORD = "a long enough passphrase"


@pytest.fixture
def token(db):
    return setup_token_issue()


def test_until_setup_the_api_answers_503_and_pages_redirect_to_setup(client, token):
    assert APIClient().get("/api/v1/projects").status_code == 503
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/setup/"


def test_health_answers_before_setup(client, token):
    assert client.get("/health").status_code == 200


def test_the_setup_page_renders_with_the_token(client, token):
    response = client.get(f"/setup/?token={token}")
    assert response.status_code == 200
    assert b"Create admin account" in response.content
    assert token.encode() in response.content


def test_setup_through_the_api_creates_one_admin_and_returns_a_token(token, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    response = APIClient().post(
        "/api/v1/auth/setup", {"username": "root", "password": PASSWORD, "token": token}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["user"]["is_admin"] is True
    bearer = response.json()["access_token"]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {bearer}").get("/api/v1/auth/me")
    assert me.json()["username"] == "root"
    stored = User.objects.get(username="root")
    assert stored.is_superuser and stored.password.startswith("argon2")


def test_setup_without_the_right_token_is_refused(token):
    response = APIClient().post(
        "/api/v1/auth/setup", {"username": "root", "password": PASSWORD, "token": "guess"}, format="json"
    )
    assert response.status_code == 403
    assert "token" in response.json()
    assert not User.objects.exists()


def test_a_weak_password_is_refused_naming_the_field(token):
    response = APIClient().post(
        "/api/v1/auth/setup", {"username": "root", "password": "123", "token": token}, format="json"
    )
    assert response.status_code == 400
    assert "password" in response.json()
    assert not User.objects.exists()


def test_setup_is_gone_for_good_once_done(client, token):
    setup_complete(username="root", password=PASSWORD, token=token)
    again = APIClient().post(
        "/api/v1/auth/setup", {"username": "evil", "password": PASSWORD, "token": token}, format="json"
    )
    assert again.status_code == 403
    assert client.get("/setup/").status_code == 302
    assert setup_token_issue() is None
    assert list(User.objects.values_list("username", flat=True)) == ["root"]


def test_setup_after_it_is_done_is_refused_with_a_detail_message(token):
    setup_complete(username="root", password=PASSWORD, token=token)
    again = APIClient().post(
        "/api/v1/auth/setup", {"username": "evil", "password": PASSWORD, "token": token}, format="json"
    )
    assert again.status_code == 403
    assert again.json() == {"detail": "Setup is already complete."}


def test_the_html_setup_form_creates_the_admin_and_logs_them_in(client, token):
    response = client.post(
        f"/setup/?token={token}",
        {"username": "root", "password": PASSWORD, "password_confirm": PASSWORD, "token": token},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_html_setup_form_shows_mismatched_passwords(client, token):
    response = client.post(
        "/setup/", {"username": "root", "password": PASSWORD, "password_confirm": "x" + PASSWORD, "token": token}
    )
    assert response.status_code == 400
    assert b"The passwords differ." in response.content


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_setups_create_exactly_one_admin():
    token = setup_token_issue()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(name: str) -> None:
        barrier.wait()
        try:
            setup_complete(username=name, password=PASSWORD, token=token)
            outcomes.append("created")
        except ServiceError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("alice", "mallory")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "refused"]
    assert User.objects.filter(is_superuser=True).count() == 1

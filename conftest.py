"""Fixtures shared by every app's tests: users, API clients, guest mode and the fake LLM server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from apps.accounts.tokens import token_issue
from apps.fakellm.server import FakeLLMServer


def make_user(username: str, *, admin: bool = False):
    from apps.accounts.models import User

    if admin:
        return User.objects.create_superuser(username=username, password="correct horse battery")
    return User.objects.create_user(username=username, password="correct horse battery")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = token_issue(user_id=user.pk)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that check hashing itself set it back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_secret_registry():
    """Secret values registered for log redaction are process-wide; keep one test's keys out of the next."""
    from apps.core import logging as redaction

    saved = set(redaction._known_secrets)
    yield
    redaction._known_secrets.clear()
    redaction._known_secrets.update(saved)


@pytest.fixture
def admin_user(db):
    return make_user("admin", admin=True)


@pytest.fixture
def owner(admin_user):
    return make_user("owner")


@pytest.fixture
def other_user(admin_user):
    return make_user("other")


@pytest.fixture
def api(owner) -> APIClient:
    """An API client signed in as `owner` (setup is complete: an admin exists)."""
    return client_for(owner)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def anon_api(admin_user) -> APIClient:
    return APIClient()


@pytest.fixture
def guest_mode(admin_user):
    from apps.core.models import SystemSettings

    system = SystemSettings.load()
    system.allow_guest_access = True
    system.save()
    return system


@pytest.fixture(scope="session")
def fake_llm_session() -> Iterator[FakeLLMServer]:
    """One fake OpenAI-compatible server for the whole run."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(fake_llm_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The session's server with counters, recorded bodies, flaky counts and latency reset per test."""
    fake_llm_session.reset_stats()
    fake_llm_session.latency_ms = 0
    yield fake_llm_session
    # A test may have changed the latency; later tests expect an instant server.
    fake_llm_session.latency_ms = 0

"""Shared pytest fixtures: users (owner, other, admin), API clients and guest mode."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.accounts.tokens import token_issue


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

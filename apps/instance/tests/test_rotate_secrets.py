"""manage.py rotate_secrets: stored secrets survive dropping the old encryption key."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.endpoints.services import endpoint_create


@pytest.mark.django_db
def test_after_rotating_the_old_key_can_be_dropped(settings, owner):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    endpoint = endpoint_create(owner=owner, label="vllm", base_url="http://10.0.0.5:8000/v1", api_key="sk-" + "a" * 20)
    settings.ENCRYPTION_KEYS = [new, old]
    call_command("rotate_secrets")
    settings.ENCRYPTION_KEYS = [new]
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == "sk-" + "a" * 20


@pytest.mark.django_db
def test_without_the_old_key_nothing_is_changed(settings, owner):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    endpoint = endpoint_create(owner=owner, label="vllm", base_url="http://10.0.0.5:8000/v1", api_key="sk-" + "b" * 20)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("rotate_secrets")
    stored = endpoint.api_key_encrypted
    endpoint.refresh_from_db()
    assert endpoint.api_key_encrypted == stored

import pytest

pytest_plugins = ["apps.fakellm.testing", "apps.core.testing"]


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

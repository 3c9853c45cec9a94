"""Instance-level workflows: first-boot setup and the system settings singleton."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import setup_complete
from apps.core.errors import InvalidInput
from apps.core.models import SystemSettings
from apps.engine.egress.allowlist_syntax import allowlist_problems
from apps.instance.demo import demo_seed


def instance_setup(*, username: str, password: str, token: str) -> User:
    """Create the first admin, then seed their workspace (default endpoint, demo project) once that commits."""
    user = setup_complete(username=username, password=password, token=token)
    if settings.DEFAULT_ENDPOINT_URL:
        transaction.on_commit(lambda: demo_seed(user=user))
    return user


def egress_allowlist_normalised(text: str) -> str:
    """Check every line with the egress allowlist syntax (InvalidInput listing the bad lines); return it stripped."""
    problems = allowlist_problems(text)
    if problems:
        raise InvalidInput.field("egress_allowlist", *problems)
    return "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n")).strip()


# The one statement of the settings' bounds; the REST serializer reads them, so both refuse alike.
# (lowest, highest) of each numeric setting: at least one run and one call, or no sweep could progress.
LIMITS = {"max_concurrent_runs": (1, 1024), "max_tokens_per_sweep": (0, 2**62), "max_calls_per_sweep": (1, 2**31 - 1)}
MAX_LENGTHS = {"default_model": SystemSettings._meta.get_field("default_model").max_length,
               "egress_allowlist": 20_000}


def _check_limits(fields: dict[str, Any]) -> None:
    errors = {}
    for name, (low, high) in LIMITS.items():
        value = fields.get(name, low)
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = ["A valid integer is required."]
        elif value < low:
            errors[name] = [f"Ensure this value is greater than or equal to {low}."]
        elif value > high:
            errors[name] = [f"Ensure this value is less than or equal to {high}."]
    for name, longest in MAX_LENGTHS.items():
        value = fields.get(name, "")
        if not isinstance(value, str):
            errors[name] = ["Not a valid string."]
        elif len(value) > longest:
            errors[name] = [f"Ensure this field has no more than {longest} characters."]
    if errors:
        raise InvalidInput(errors=errors)


def system_settings_update(*, fields: dict[str, Any]) -> SystemSettings:
    """Change only the given fields, so two admins editing different settings don't undo each other."""
    fields = dict(fields)
    _check_limits(fields)
    if "egress_allowlist" in fields:
        fields["egress_allowlist"] = egress_allowlist_normalised(fields["egress_allowlist"])
    with transaction.atomic():
        SystemSettings.load()
        SystemSettings.objects.filter(pk=1).update(**fields, updated_at=timezone.now())
    return SystemSettings.objects.select_related("default_endpoint").get(pk=1)

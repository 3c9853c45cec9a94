"""The system settings' bounds are the service's: the REST API and the admin refuse the same values alike."""

from __future__ import annotations

import pytest

from apps.core.errors import InvalidInput
from apps.core.models import SystemSettings
from apps.instance.services import system_settings_update
from apps.instance.tests.conftest import admin_url

TOO_LONG = "# lab\n" * 3334  # 20,004 characters, every line valid


def test_the_service_refuses_an_allowlist_longer_than_the_api_accepts(db):
    with pytest.raises(InvalidInput) as caught:
        system_settings_update(fields={"egress_allowlist": TOO_LONG})
    assert caught.value.errors == {"egress_allowlist": ["Ensure this field has no more than 20000 characters."]}
    assert SystemSettings.load().egress_allowlist == ""


def test_the_admin_refuses_a_long_allowlist_with_the_apis_message(staff, admin_api):
    SystemSettings.load()
    refused = admin_api.patch("/api/v1/admin/settings", {"egress_allowlist": TOO_LONG}, format="json")
    response = staff.post(admin_url(SystemSettings, "change", 1), {
        "default_model": "", "max_concurrent_runs": 4, "max_tokens_per_sweep": 0, "max_calls_per_sweep": 1000,
        "egress_allowlist": TOO_LONG, "_save": "Save"})

    assert refused.status_code == 400
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["egress_allowlist"] == refused.json()["egress_allowlist"]
    assert SystemSettings.load().egress_allowlist == ""


@pytest.mark.parametrize(("field", "value"), [
    ("max_concurrent_runs", 0), ("max_concurrent_runs", 1025), ("max_tokens_per_sweep", -1),
    ("max_tokens_per_sweep", 2**62 + 1), ("max_calls_per_sweep", 0), ("max_calls_per_sweep", 2**31),
])
def test_the_api_refuses_an_out_of_bounds_limit_with_the_services_message(admin_api, field, value):
    refused = admin_api.patch("/api/v1/admin/settings", {field: value}, format="json")
    with pytest.raises(InvalidInput) as caught:
        system_settings_update(fields={field: value})

    assert refused.status_code == 400
    assert refused.json() == caught.value.errors

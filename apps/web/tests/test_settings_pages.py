"""The settings page: admins only; saves through system_settings_update with errors next to the fields."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import SystemSettings
from apps.endpoints.services import endpoint_create

pytestmark = pytest.mark.django_db


def form_data(system: SystemSettings, **overrides) -> dict:
    """What the page submits: each value, and (as `initial-<name>`) the value the page showed."""
    data = {"allow_guest_access": system.allow_guest_access, "default_endpoint": system.default_endpoint_id or "",
            "default_model": system.default_model, "max_concurrent_runs": system.max_concurrent_runs,
            "max_tokens_per_sweep": system.max_tokens_per_sweep, "max_calls_per_sweep": system.max_calls_per_sweep,
            "egress_allowlist": system.egress_allowlist}
    shown = {f"initial-{name}": value for name, value in data.items()}
    submitted = {**data, **overrides}
    # A ticked checkbox is submitted as "on", an unticked one not at all.
    if submitted.pop("allow_guest_access"):
        submitted["allow_guest_access"] = "on"
    return {**shown, **submitted}


def test_an_admin_changes_guest_access_limits_and_defaults(client, admin_user):
    endpoint = endpoint_create(owner=admin_user, label="house llm", base_url="http://127.0.0.1:9/v1")
    client.force_login(admin_user)
    page = client.get(reverse("web:settings")).content.decode()
    assert "house llm" in page and 'name="egress_allowlist"' in page
    data = form_data(SystemSettings.load(), allow_guest_access="on", default_endpoint=str(endpoint.pk),
                     default_model="fake-chat", max_concurrent_runs="12", egress_allowlist="10.0.0.5:8000\n")
    response = client.post(reverse("web:settings"), data, follow=True)
    assert "Settings saved." in response.content.decode()
    system = SystemSettings.load()
    assert system.allow_guest_access and system.default_endpoint == endpoint
    assert system.default_model == "fake-chat" and system.max_concurrent_runs == 12
    assert system.egress_allowlist == "10.0.0.5:8000"


def test_only_the_fields_an_admin_changed_are_written(client, admin_user):
    client.force_login(admin_user)
    stale = form_data(SystemSettings.load())
    SystemSettings.objects.filter(pk=1).update(default_model="set by another admin")
    client.post(reverse("web:settings"), {**stale, "max_calls_per_sweep": "500"})
    system = SystemSettings.load()
    assert (system.max_calls_per_sweep, system.default_model) == (500, "set by another admin")


def test_a_bad_allowlist_line_is_shown_next_to_the_allowlist(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("web:settings"), form_data(SystemSettings.load(), egress_allowlist="not a host!!"))
    assert response.status_code == 400
    assert response.context["form"].errors["egress_allowlist"]
    assert 'id="id_egress_allowlist_error"' in response.content.decode()
    assert SystemSettings.load().egress_allowlist == ""


def test_a_limit_out_of_bounds_is_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("web:settings"), form_data(SystemSettings.load(), max_concurrent_runs="0"))
    assert response.status_code == 400 and "max_concurrent_runs" in response.context["form"].errors
    assert SystemSettings.load().max_concurrent_runs != 0


def test_only_the_admins_own_endpoints_can_be_the_default(client, admin_user, owner):
    theirs = endpoint_create(owner=owner, label="owner llm", base_url="http://127.0.0.1:9/v1")
    client.force_login(admin_user)
    assert "owner llm" not in client.get(reverse("web:settings")).content.decode()
    response = client.post(reverse("web:settings"), form_data(SystemSettings.load(), default_endpoint=str(theirs.pk)))
    assert response.status_code == 400 and "default_endpoint" in response.context["form"].errors
    assert SystemSettings.load().default_endpoint is None


def test_a_user_who_is_not_an_admin_is_refused(client, owner):
    client.force_login(owner)
    assert client.get(reverse("web:settings")).status_code == 403
    response = client.post(reverse("web:settings"), form_data(SystemSettings.load(), allow_guest_access="on"))
    assert response.status_code == 403 and not SystemSettings.load().allow_guest_access


def test_anonymous_visitors_are_sent_to_log_in_even_with_guest_access(client, guest_mode):
    response = client.get(reverse("web:settings"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    client.post(reverse("web:settings"), form_data(SystemSettings.load(), max_calls_per_sweep="7"))
    assert SystemSettings.load().max_calls_per_sweep != 7

"""The instance's default endpoint is one the acting admin owns, in the settings API and the admin."""

import re

import pytest

from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/admin/settings"
CHANGE = "/admin/core/systemsettings/1/change/"


@pytest.fixture
def endpoints(admin_user, owner):
    own = Endpoint.objects.create(owner=admin_user, label="admin's vLLM", base_url="http://127.0.0.1:8000/v1")
    theirs = Endpoint.objects.create(owner=owner, label="owner's Ollama", base_url="http://127.0.0.1:11434/v1")
    return own, theirs


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def settings_form(**changes) -> dict:
    data = {"default_model": "", "max_concurrent_runs": 4, "max_tokens_per_sweep": 0, "max_calls_per_sweep": 1000,
            "egress_allowlist": "", "_save": "Save"}
    return {**data, **changes}


def test_the_settings_api_refuses_another_users_endpoint_as_the_default(admin_api, endpoints):
    own, theirs = endpoints
    assert admin_api.patch(SETTINGS, {"default_endpoint": str(own.pk)}, format="json").status_code == 200
    response = admin_api.patch(SETTINGS, {"default_endpoint": str(theirs.pk), "default_model": "llama3"},
                               format="json")
    assert response.status_code == 400
    assert "default_endpoint" in response.json()
    system = SystemSettings.load()
    assert (system.default_endpoint, system.default_model) == (own, "")


def test_the_default_endpoint_is_cleared_with_null_and_an_empty_string_is_refused(admin_api, endpoints):
    own, _ = endpoints
    assert admin_api.patch(SETTINGS, {"default_endpoint": str(own.pk)}, format="json").status_code == 200
    refused = admin_api.patch(SETTINGS, {"default_endpoint": ""}, format="json")
    assert refused.status_code == 400 and "default_endpoint" in refused.json()
    assert SystemSettings.load().default_endpoint == own
    cleared = admin_api.patch(SETTINGS, {"default_endpoint": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["default_endpoint"] is None
    assert SystemSettings.load().default_endpoint is None


def test_the_settings_api_accepts_the_admins_own_endpoint_and_shows_its_label(admin_api, endpoints):
    own, _ = endpoints
    response = admin_api.patch(SETTINGS, {"default_endpoint": str(own.pk)}, format="json")
    assert response.status_code == 200
    assert response.json()["default_endpoint_label"] == "admin's vLLM"


def test_the_admin_form_refuses_another_users_endpoint_as_the_default(staff, endpoints):
    _, theirs = endpoints
    SystemSettings.load()
    response = staff.post(CHANGE, settings_form(default_endpoint=theirs.pk, default_model="llama3"))
    assert response.status_code == 200
    assert "default_endpoint" in response.context["adminform"].form.errors
    system = SystemSettings.load()
    assert (system.default_endpoint, system.default_model) == (None, "")


def test_the_admin_form_accepts_the_admins_own_endpoint(staff, endpoints):
    own, _ = endpoints
    SystemSettings.load()
    assert staff.post(CHANGE, settings_form(default_endpoint=own.pk)).status_code == 302
    assert SystemSettings.load().default_endpoint == own


def test_the_default_endpoint_picker_lists_only_the_admins_own_endpoints(staff, endpoints):
    SystemSettings.load()
    page = staff.get(CHANGE).content.decode()
    url = re.search(r'name="default_endpoint"[^>]*data-ajax--url="([^"]+)"|data-ajax--url="([^"]+)"[^>]*'
                    r'name="default_endpoint"', page)
    assert url, "the default endpoint field is an autocomplete"
    search = url.group(1) or url.group(2)
    params = {"app_label": "core", "model_name": "systemsettings", "field_name": "default_endpoint", "term": ""}
    results = staff.get(search, params).json()["results"]
    assert [row["text"] for row in results] == ["admin's vLLM"]
    assert "owner's Ollama" not in page


def test_the_schema_declares_the_default_endpoint_label_nullable(admin_api):
    import yaml

    schema = yaml.safe_load(admin_api.get("/api/v1/schema").content)
    label = schema["components"]["schemas"]["SystemSettings"]["properties"]["default_endpoint_label"]
    assert label.get("nullable") is True

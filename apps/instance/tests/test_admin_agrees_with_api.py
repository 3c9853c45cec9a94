"""The admin saves through the API's services: what the API refuses, the admin refuses on the same field."""

from __future__ import annotations

from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.instance.tests.conftest import RAW_KEY, RAW_SECRET, admin_url, inline_data
from apps.projects.models import Project
from apps.webhooks.models import WebhookConfig


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, "the admin saved what it should have refused"
    return response.context["adminform"].form.errors


def endpoint_form(endpoint: Endpoint, **changes) -> dict:
    data = {
        "owner": endpoint.owner_id, "label": endpoint.label, "kind": endpoint.kind, "base_url": endpoint.base_url,
        "is_active": "on",
        "max_concurrency": 4, "connect_timeout_s": 5, "read_timeout_s": 120, "model_prices": "{}",
        "new_api_key": "", "_save": "Save",
    }
    return {**data, **changes}


def test_an_api_key_the_api_refuses_is_refused_on_the_admins_key_field_with_the_same_message(staff, api, world):
    key = "sk key with spaces"

    refused = api.patch(f"/api/v1/endpoints/{world.endpoint.pk}", {"api_key": key}, format="json")
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk),
                          endpoint_form(world.endpoint, new_api_key=key))

    assert refused.status_code == 400
    assert form_errors(response)["new_api_key"] == refused.json()["api_key"]
    world.endpoint.refresh_from_db()
    assert world.endpoint.get_api_key() == RAW_KEY


def test_a_price_table_the_api_refuses_is_refused_on_the_admins_price_field(staff, api, world):
    prices = {"m": {"input": 0.15}}

    refused = api.patch(f"/api/v1/endpoints/{world.endpoint.pk}", {"model_prices": prices}, format="json")
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk),
                          endpoint_form(world.endpoint, model_prices='{"m": {"input": 0.15}}'))

    assert refused.status_code == 400
    [(path, [message])] = refused.json().items()
    assert form_errors(response)["model_prices"] == [f"{path.removeprefix('model_prices.')}: {message}"]
    world.endpoint.refresh_from_db()
    assert world.endpoint.model_prices == {}


def test_an_endpoint_timeout_the_api_refuses_is_refused_by_the_admin(staff, api, world):
    refused = api.patch(f"/api/v1/endpoints/{world.endpoint.pk}", {"connect_timeout_s": 0}, format="json")
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk),
                          endpoint_form(world.endpoint, connect_timeout_s=0))

    assert refused.status_code == 400
    assert "connect_timeout_s" in form_errors(response)
    world.endpoint.refresh_from_db()
    assert world.endpoint.connect_timeout_s == 5.0


def settings_form(**changes) -> dict:
    data = {"default_model": "", "max_concurrent_runs": 4, "max_tokens_per_sweep": 0, "max_calls_per_sweep": 1000,
            "egress_allowlist": "", "_save": "Save"}
    return {**data, **changes}


def test_the_admin_stores_the_allowlist_exactly_as_the_api_does(staff, admin_api):
    allowlist = " llm.internal:8080 \r\n\r\n10.0.0.0/8\r\n"

    assert admin_api.patch("/api/v1/admin/settings", {"egress_allowlist": allowlist}, format="json").status_code == 200
    from_api = SystemSettings.load().egress_allowlist
    SystemSettings.objects.filter(pk=1).update(egress_allowlist="")
    response = staff.post(admin_url(SystemSettings, "change", 1), settings_form(egress_allowlist=allowlist))

    assert response.status_code == 302
    assert SystemSettings.load().egress_allowlist == from_api


def test_a_concurrency_limit_the_api_refuses_is_refused_by_the_admin_with_the_same_message(staff, admin_api):
    SystemSettings.load()
    refused = admin_api.patch("/api/v1/admin/settings", {"max_concurrent_runs": 5000}, format="json")
    response = staff.post(admin_url(SystemSettings, "change", 1), settings_form(max_concurrent_runs=5000))

    assert refused.status_code == 400
    assert form_errors(response)["max_concurrent_runs"] == refused.json()["max_concurrent_runs"]
    assert SystemSettings.load().max_concurrent_runs != 5000


def webhook_form(page, webhook: WebhookConfig, **changes) -> dict:
    data = {
        "owner": webhook.owner_id, "project": webhook.project_id, "url": webhook.url, "is_active": "on",
        "event_types": webhook.event_types,
        "new_secret": "", "new_headers": "", "_save": "Save",
    }
    return {**data, **inline_data(page), **changes}


def test_a_signing_secret_the_api_refuses_is_refused_on_the_admins_secret_field(staff, api, world):
    short = "short-secret"

    refused = api.post("/api/v1/webhooks", {"url": world.webhook.url, "event_types": ["run.failed"],
                                            "secret": short}, format="json")
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    response = staff.post(url, webhook_form(staff.get(url), world.webhook, new_secret=short))

    assert refused.status_code == 400
    assert form_errors(response)["new_secret"] == refused.json()["secret"]
    world.webhook.refresh_from_db()
    assert world.webhook.get_secret() == RAW_SECRET


def test_a_header_the_api_reserves_cannot_be_set_in_the_admin(staff, api, world):
    refused = api.post("/api/v1/webhooks", {"url": world.webhook.url, "event_types": ["run.failed"],
                                            "headers": {"webhook-signature": "forged"}}, format="json")
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    response = staff.post(url, webhook_form(staff.get(url), world.webhook, new_headers="webhook-signature: forged"))

    assert refused.status_code == 400
    [message] = refused.json()["headers.webhook-signature"]
    assert form_errors(response)["new_headers"] == [f"webhook-signature: {message}"]
    world.webhook.refresh_from_db()
    assert "webhook-signature" not in world.webhook.get_headers()


def experiment_form(**changes) -> dict:
    data = {"name": "Tone sweep", "description": "", "repeats": 1, "budget_tokens": "", "budget_usd": "",
            "_save": "Save"}
    return {**data, **changes}


def test_an_experiment_whose_stages_the_api_refuses_cannot_be_saved_in_the_admin(staff, api, world, other_user):
    theirs = Endpoint.objects.create(owner=other_user, label="Not yours", base_url="http://127.0.0.1:9000/v1")
    stages = [{**world.experiment.pipeline_stages[0], "endpoint": str(theirs.pk)}]
    Experiment.objects.filter(pk=world.experiment.pk).update(pipeline_stages=stages)

    refused = api.patch(f"/api/v1/experiments/{world.experiment.pk}", {"budget_tokens": 5000}, format="json")
    response = staff.post(admin_url(Experiment, "change", world.experiment.pk), experiment_form(budget_tokens=5000))

    assert refused.status_code == 400
    [api_error] = [f"{path}: {message}" for path, messages in refused.json().items() for message in messages]
    assert form_errors(response)["__all__"] == [api_error]
    world.experiment.refresh_from_db()
    assert world.experiment.budget_tokens is None


def test_repeats_the_api_refuses_are_refused_on_the_admins_repeats_field(staff, api, world):
    refused = api.patch(f"/api/v1/experiments/{world.experiment.pk}", {"repeats": 101}, format="json")
    response = staff.post(admin_url(Experiment, "change", world.experiment.pk), experiment_form(repeats=101))

    assert refused.status_code == 400 and "repeats" in refused.json()
    assert "repeats" in form_errors(response)
    world.experiment.refresh_from_db()
    assert world.experiment.repeats == 1


def test_project_notes_the_api_refuses_are_refused_on_the_admins_notes_field_with_the_same_message(staff, api, world):
    notes = "n" * 100_001
    url = admin_url(Project, "change", world.project.pk)

    refused = api.patch(f"/api/v1/projects/{world.project.pk}", {"notes": notes}, format="json")
    form = {"owner": world.project.owner_id, "name": "Support bot", "description": "", "notes": notes, "_save": "Save"}
    response = staff.post(url, {**form, **inline_data(staff.get(url))})

    assert refused.status_code == 400
    assert form_errors(response)["notes"] == refused.json()["notes"]
    world.project.refresh_from_db()
    assert world.project.notes == ""


def test_a_page_refused_after_its_form_validated_saves_nothing(staff, world):
    # Without the inlines' management form the page is refused after the form (and its service call) passed.
    response = staff.post(admin_url(Project, "change", world.project.pk),
                          {"name": "Renamed", "description": "", "notes": "", "_save": "Save"})

    assert response.status_code == 200
    world.project.refresh_from_db()
    assert world.project.name == "Support bot"

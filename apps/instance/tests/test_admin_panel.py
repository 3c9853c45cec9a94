"""The Django admin is the settings panel: every model opens, secrets stay hidden, settings validate."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import ApiKey, User
from apps.activity.models import Event
from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.engine.egress.allowlist_syntax import allowlist_entry_error
from apps.experiments.models import Experiment
from apps.instance.tests.conftest import (
    ADMIN_MODELS,
    EXPECTED_MODELS,
    add_run,
    admin_url,
    inline_data,
)
from apps.projects.models import Project
from apps.runs.models import ResponseCache, Run, Score, StageResult, Sweep
from apps.webhooks.models import WebhookConfig


def test_every_expected_model_is_registered():
    assert EXPECTED_MODELS <= set(ADMIN_MODELS)


@pytest.mark.parametrize("label", ADMIN_MODELS)
def test_every_admin_page_opens_with_rows_present(staff, world, admin_user, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = admin_user

    listing = staff.get(admin_url(model, "changelist"), follow=True)
    assert listing.status_code == 200
    if "cl" in listing.context:
        assert listing.context["cl"].result_count >= 1
        row = listing.context["cl"].result_list[0]
        assert staff.get(admin_url(model, "changelist"), {"q": "a"}).status_code == 200
    else:
        row = model_admin.get_queryset(request).get()
    assert staff.get(admin_url(model, "change", row.pk)).status_code == 200
    if model_admin.has_add_permission(request):
        assert staff.get(admin_url(model, "add")).status_code == 200


def test_searching_by_a_uuid_finds_that_row(staff, world):
    response = staff.get(admin_url(Run, "changelist"), {"q": str(world.runs[1].pk)})

    assert list(response.context["cl"].result_list) == [world.runs[1]]


@pytest.mark.parametrize("model", [Run, StageResult, Score, Event, Experiment, Project, Endpoint, WebhookConfig])
def test_changelist_queries_do_not_grow_with_rows(staff, world, model):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(admin_url(model, "changelist")).status_code == 200
        return len(captured)

    count_queries()  # warm the per-process caches (content types, session)
    before = count_queries()
    project = Project.objects.create(owner=world.project.owner, name="More")
    experiment = Experiment.objects.create(project=project, name="More")
    for position in range(5):
        add_run(experiment, Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID), position)
    for number in range(3):
        Endpoint.objects.create(owner=world.project.owner, label=f"e{number}", base_url="http://h/v1")
        WebhookConfig.objects.create(owner=world.project.owner, url=f"https://h{number}.example.com")

    assert count_queries() == before


def test_experiment_links_to_its_runs_changelist_filtered_by_it(staff, world):
    other = Experiment.objects.create(project=world.project, name="Other")
    add_run(other, Sweep.objects.create(experiment=other, kind=Sweep.Kind.GRID), 0)
    url = admin_url(Run, "changelist") + f"?experiment__id__exact={world.experiment.pk}"

    page = staff.get(admin_url(Experiment, "change", world.experiment.pk)).content.decode()
    listing = staff.get(url)

    assert url.replace("&", "&amp;") in page
    assert set(listing.context["cl"].result_list) == set(world.runs)


def test_run_page_links_to_its_experiment_and_sweep_and_lists_results(staff, world):
    page = staff.get(admin_url(Run, "change", world.runs[0].pk)).content.decode()

    assert admin_url(Experiment, "change", world.experiment.pk) in page
    assert admin_url(Sweep, "change", world.sweep.pk) in page
    assert "item-1" in page and "length" in page


def test_engine_written_rows_cannot_be_changed_or_added(staff, world):
    stage_result = world.runs[0].stage_results.get()

    response = staff.post(admin_url(StageResult, "change", stage_result.pk), {"item_id": "tampered"})

    assert response.status_code == 403
    assert staff.get(admin_url(Event, "add")).status_code == 403
    stage_result.refresh_from_db()
    assert stage_result.item_id == "item-1"


def test_cached_responses_can_be_deleted_to_invalidate_the_cache(staff, world):
    response = staff.post(
        admin_url(ResponseCache, "changelist"),
        {"action": "delete_selected", "_selected_action": [world.cache.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not ResponseCache.objects.exists()


def test_non_staff_user_is_sent_to_the_admin_login(client, owner):
    client.force_login(owner)

    response = client.get(admin_url(Endpoint, "changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_anonymous_visitor_is_sent_to_the_admin_login(client, admin_user):
    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_admin_is_branded_as_the_settings_panel(staff):
    assert "PromptLooper settings" in staff.get(reverse("admin:index")).content.decode()


def test_a_user_can_be_added_through_the_admin(staff):
    response = staff.post(
        admin_url(User, "add"),
        {"username": "newcomer", "password1": "a long passphrase 42", "password2": "a long passphrase 42",
         "usable_password": "true"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(username="newcomer").check_password("a long passphrase 42")


def test_system_settings_changelist_redirects_to_its_change_form(staff):
    response = staff.get(admin_url(SystemSettings, "changelist"))

    assert response.status_code == 302
    assert response.url == admin_url(SystemSettings, "change", SystemSettings.load().pk)


def test_system_settings_cannot_be_added_twice_or_deleted(staff):
    SystemSettings.load()

    assert staff.get(admin_url(SystemSettings, "add")).status_code == 403
    assert staff.post(admin_url(SystemSettings, "delete", 1), {"post": "yes"}).status_code == 403
    assert SystemSettings.objects.count() == 1


def settings_form(**changes) -> dict:
    data = {"default_model": "", "max_concurrent_runs": 4, "max_tokens_per_sweep": 0, "max_calls_per_sweep": 1000,
            "egress_allowlist": "", "_save": "Save"}
    return {**data, **changes}


def test_system_settings_save_and_never_show_the_setup_token_hash(staff, world, admin_user):
    SystemSettings.objects.filter(pk=1).update(setup_token_hash="f" * 64)
    allowlist = " llm.internal:8080 \n\n10.0.0.0/8\n[fd00::1]:11434\n192.168.1.20"
    url = admin_url(SystemSettings, "change", 1)
    own = Endpoint.objects.create(owner=admin_user, label="Admin's vLLM", base_url="http://127.0.0.1:8001/v1")

    response = staff.post(url, settings_form(allow_guest_access="on", default_endpoint=own.pk,
                                             egress_allowlist=allowlist))

    assert response.status_code == 302
    system = SystemSettings.load()
    assert system.allow_guest_access and system.default_endpoint == own
    # Stripped line by line, as the settings API stores it (test_admin_agrees_with_api compares the two).
    assert system.egress_allowlist == "llm.internal:8080\n\n10.0.0.0/8\n[fd00::1]:11434\n192.168.1.20"
    assert "f" * 64 not in staff.get(url).content.decode()


def test_a_bad_allowlist_line_is_named_in_the_error(staff):
    SystemSettings.load()

    response = staff.post(admin_url(SystemSettings, "change", 1),
                          settings_form(egress_allowlist="10.0.0.0/8\nnot a host!\nexample.com:99999"))

    errors = response.context["adminform"].form.errors["egress_allowlist"]
    assert any('Line 2 ("not a host!")' in error for error in errors)
    assert any('Line 3 ("example.com:99999")' in error for error in errors)
    assert SystemSettings.load().egress_allowlist == ""


@pytest.mark.parametrize("entry", ["example.com", "llm.example.com:443", "10.1.2.3", "10.1.2.3:8000", "10.0.0.0/8",
                                   "10.0.0.0/8:443", "::1", "fd00::/8", "[fd00::1]", "[fd00::1]:8080", "localhost"])
def test_allowlist_accepts_hosts_ips_and_cidrs_with_optional_ports(entry):
    assert allowlist_entry_error(entry) is None


@pytest.mark.parametrize("entry", ["http://example.com", "*.example.com", "0x7f.1", "2130706433", "999.1.1.1",
                                   "10.0.0.1/8", "example.com:0", "example.com:", "[10.0.0.1]:80", "fd00::1]:80",
                                   "exa mple.com", "-bad-.com", ":80"])
def test_allowlist_rejects_anything_else(entry):
    assert allowlist_entry_error(entry)


def test_api_key_pages_never_show_the_hash_and_offer_no_add(staff, world):
    page = staff.get(admin_url(ApiKey, "change", world.api_key.pk)).content.decode()

    assert world.api_key.hashed_key not in page
    assert world.api_key.prefix in page
    assert staff.get(admin_url(ApiKey, "add")).status_code == 403


def test_revoke_action_sets_revoked_at(staff, world):
    response = staff.post(
        admin_url(ApiKey, "changelist"), {"action": "revoke_selected", "_selected_action": [world.api_key.pk]}
    )

    assert response.status_code == 302
    world.api_key.refresh_from_db()
    assert world.api_key.revoked_at is not None


def test_run_page_shows_the_first_fifty_stage_results_and_links_to_all(staff, world):
    run = world.runs[0]
    StageResult.objects.bulk_create(
        StageResult(run=run, item_id=f"bulk-{number:03}", stage_index=0, model_used="m") for number in range(60)
    )

    page = staff.get(admin_url(Run, "change", run.pk))

    stage_inline = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is StageResult)
    assert len(stage_inline.formset.forms) == 50
    assert f"?run__id__exact={run.pk}" in page.content.decode()


def test_a_project_with_read_only_inlines_can_be_renamed(staff, world):
    url = admin_url(Project, "change", world.project.pk)
    form = {"owner": world.project.owner_id, "name": "Renamed", "description": "", "notes": "", "_save": "Save"}

    assert staff.post(url, {**form, **inline_data(staff.get(url))}).status_code == 302

    world.project.refresh_from_db()
    assert world.project.name == "Renamed"
    assert world.project.saved_configs.count() == 1 and world.project.exports.count() == 1


def test_an_experiment_budget_is_editable_but_its_configuration_is_not(staff, world):
    url = admin_url(Experiment, "change", world.experiment.pk)
    form = {"name": "Tone sweep", "description": "", "repeats": 3, "budget_tokens": 5000, "budget_usd": "",
            "sample_data": "[]", "_save": "Save"}

    assert staff.post(url, form).status_code == 302

    world.experiment.refresh_from_db()
    assert (world.experiment.repeats, world.experiment.budget_tokens) == (3, 5000)
    assert world.experiment.sample_data == [{"id": "item-1", "input": "hi"}]

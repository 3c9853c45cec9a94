"""The Django admin is the settings panel: every model opens, secrets stay hidden, settings validate."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from apps.accounts.models import ApiKey, User
from apps.accounts.services import api_key_create
from apps.core import crypto
from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.engine.egress.allowlist_syntax import allowlist_entry_error
from apps.experiments.models import Experiment
from apps.projects.models import ExportRecord, Project, SavedConfig
from apps.runs.models import Event, ResponseCache, Run, Score, ScoreSummary, StageResult, Sweep
from apps.webhooks.models import WebhookConfig, WebhookDelivery

RAW_KEY = "sk-canary-endpoint-key-9f8e"
RAW_SECRET = "whsec-canary-signing-secret-77aa"
HEADER_VALUE = "Bearer canary-header-value-55bb"
ADMIN_MODELS = sorted(f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry)
EXPECTED_MODELS = {
    "accounts.user", "accounts.apikey", "core.systemsettings", "projects.project", "projects.savedconfig",
    "projects.exportrecord", "experiments.experiment", "runs.sweep", "runs.run", "runs.stageresult",
    "runs.score", "runs.responsecache", "runs.event", "endpoints.endpoint", "webhooks.webhookconfig",
    "webhooks.webhookdelivery", "django_q.schedule", "django_q.success", "django_q.failure",
    "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog", "runs.scoresummary",
}
# django-q2 shows its queue table only with the database broker (no REDIS_URL).
if "orm" in settings.Q_CLUSTER:
    EXPECTED_MODELS.add("django_q.ormq")


def admin_url(model, action: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[quote(arg) for arg in args])


def add_run(experiment: Experiment, sweep: Sweep, position: int) -> Run:
    run = Run.objects.create(
        experiment=experiment, sweep=sweep, position=position, config={"stages": [{"model": "m"}]},
        config_hash=uuid.uuid4().hex, status=Run.Status.COMPLETED, weighted_score=0.5,
    )
    StageResult.objects.create(run=run, item_id="item-1", stage_index=0, stage_name="answer", model_used="m",
                               response_raw="hello", prompt_sent=[{"role": "user", "content": "hi"}])
    Score.objects.create(run=run, scorer_name="length", item_id="item-1", repeat=0, value=0.5)
    Event.objects.create(owner=experiment.project.owner, kind="run.completed", project=experiment.project,
                         experiment=experiment, sweep=sweep, run=run)
    return run


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world(owner, admin_user):
    project = Project.objects.create(owner=owner, name="Support bot")
    experiment = Experiment.objects.create(project=project, name="Tone sweep", sample_data=[{"id": "item-1"}])
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, runs_total=2)
    runs = [add_run(experiment, sweep, position) for position in range(2)]
    endpoint = Endpoint(owner=owner, label="Local vLLM", base_url="http://127.0.0.1:8000/v1")
    endpoint.set_api_key(RAW_KEY)
    endpoint.save()
    webhook = WebhookConfig(owner=owner, project=project, url="https://hooks.example.com/pl",
                            event_types=["run.failed"])
    webhook.set_secret(RAW_SECRET)
    webhook.set_headers({"Authorization": HEADER_VALUE})
    webhook.save()
    event = Event.objects.filter(run=runs[0]).get()
    now = timezone.now()
    api_key, _ = api_key_create(user=owner, name="ci")
    async_task("math.floor", 1.5)
    login_failure = {"username": "mallory", "ip_address": "203.0.113.9", "user_agent": "curl", "path_info": "/login/"}
    AccessAttempt.objects.create(**login_failure, failures_since_start=3)
    AccessFailureLog.objects.create(**login_failure)
    Group.objects.create(name="operators")
    return SimpleNamespace(
        project=project, experiment=experiment, sweep=sweep, runs=runs, endpoint=endpoint, webhook=webhook,
        api_key=api_key, system=SystemSettings.load(),
        saved=SavedConfig.objects.create(project=project, name="best", config={"a": 1}, run=runs[0], score=0.5),
        export=ExportRecord.objects.create(project=project, experiment=experiment, run=runs[0], format="json"),
        summary=ScoreSummary.objects.create(run=runs[0], scorer_name="keyword", mean=0.5, std=0.1, n=2,
                                            ci_low=0.4, ci_high=0.6),
        cache=ResponseCache.objects.create(key="c" * 64, owner=owner, provider="openai", base_url="http://x/v1",
                                           model="m", response="hello", origin_run=str(runs[0].pk)),
        delivery=WebhookDelivery.objects.create(webhook=webhook, event=event, status_code=500),
        schedule=Schedule.objects.create(name="reconcile", func="math.floor", schedule_type=Schedule.MINUTES),
        tasks=[
            Task.objects.create(id=uuid.uuid4().hex, name=name, func="math.floor", started=now, stopped=now,
                                success=success)
            for name, success in (("alpha-ok", True), ("bravo-failed", False))
        ],
    )


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


def endpoint_form(endpoint: Endpoint, **changes) -> dict:
    data = {
        "owner": endpoint.owner_id, "label": endpoint.label, "kind": endpoint.kind, "base_url": endpoint.base_url,
        "is_active": "on", "max_concurrency": 4, "connect_timeout_s": 5, "read_timeout_s": 120,
        "model_prices": '{"m": {"input": 0.15, "output": 0.6}}', "new_api_key": "", "_save": "Save",
    }
    return {**data, **changes}


def test_endpoint_pages_show_only_the_last_four_of_the_key(staff, world):
    pages = [
        staff.get(admin_url(Endpoint, "change", world.endpoint.pk)).content.decode(),
        staff.get(admin_url(Endpoint, "changelist")).content.decode(),
    ]

    for page in pages:
        assert RAW_KEY not in page
        assert world.endpoint.api_key_encrypted not in page
        assert "set · …9f8e" in page


def test_a_new_key_entered_in_the_admin_is_stored_encrypted(staff, world):
    new_key = "sk-fresh-key-from-admin-4321"

    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint,
                                                                                             new_api_key=new_key))

    assert response.status_code == 302
    world.endpoint.refresh_from_db()
    assert new_key not in world.endpoint.api_key_encrypted
    assert crypto.decrypt(world.endpoint.api_key_encrypted) == new_key
    assert world.endpoint.api_key_last4 == "4321"
    assert world.endpoint.model_prices == {"m": {"input": 0.15, "output": 0.6}}


def test_saving_without_a_new_key_keeps_the_key(staff, world):
    form = endpoint_form(world.endpoint, base_url="http://127.0.0.1:8000/v2", label="Renamed")

    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), form)

    world.endpoint.refresh_from_db()
    assert world.endpoint.label == "Renamed"
    assert world.endpoint.get_api_key() == RAW_KEY


@pytest.mark.parametrize("new_url", ["http://evil.example.com:8000/v1", "http://127.0.0.1:9000/v1",
                                     "https://127.0.0.1:8000/v1"])
def test_changing_the_endpoint_origin_without_a_new_key_clears_the_key(staff, world, new_url):
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint,
                                                                                             base_url=new_url))

    assert response.status_code == 302
    world.endpoint.refresh_from_db()
    assert world.endpoint.base_url == new_url
    assert not world.endpoint.has_api_key
    assert world.endpoint.api_key_last4 == ""


def test_changing_the_origin_with_a_new_key_keeps_the_new_key(staff, world):
    form = endpoint_form(world.endpoint, base_url="https://api.example.com/v1", new_api_key="sk-for-new-host-0000")

    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), form)

    world.endpoint.refresh_from_db()
    assert world.endpoint.get_api_key() == "sk-for-new-host-0000"


def test_the_clear_key_box_clears_the_key(staff, world):
    staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint, clear_api_key="on"))

    world.endpoint.refresh_from_db()
    assert not world.endpoint.has_api_key


@pytest.mark.parametrize("changes", [
    {"new_api_key": "sk-new-key-1234", "clear_api_key": "on"},
    {"base_url": "file:///etc/passwd"},
    {"model_prices": '{"m": {"input": -1}}'},
    {"new_api_key": "sk-line\nbreak-key"},
])
def test_bad_endpoint_input_is_refused_and_nothing_changes(staff, world, changes):
    response = staff.post(admin_url(Endpoint, "change", world.endpoint.pk), endpoint_form(world.endpoint, **changes))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    world.endpoint.refresh_from_db()
    assert world.endpoint.get_api_key() == RAW_KEY
    assert world.endpoint.base_url == "http://127.0.0.1:8000/v1"


def test_an_endpoint_can_be_added_with_a_key(staff, world, owner):
    form = endpoint_form(world.endpoint, label="Ollama", base_url="http://10.0.0.5:11434/v1",
                         new_api_key="ollama-key-5678")

    assert staff.post(admin_url(Endpoint, "add"), form).status_code == 302
    assert Endpoint.objects.get(owner=owner, label="Ollama").get_api_key() == "ollama-key-5678"


def inline_data(page) -> dict:
    """The management and id fields a change form posts back for its (read-only) inlines."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()})
        data.update({f"{form.prefix}-id": form.instance.pk for form in formset.initial_forms})
    return data


def webhook_form(page, webhook: WebhookConfig, **changes) -> dict:
    data = {
        "owner": webhook.owner_id, "project": webhook.project_id, "url": webhook.url, "is_active": "on",
        "event_types": webhook.event_types, "new_secret": "", "new_headers": "", "_save": "Save",
    }
    return {**data, **inline_data(page), **changes}


def test_webhook_page_shows_header_names_but_no_secret_values(staff, world):
    page = staff.get(admin_url(WebhookConfig, "change", world.webhook.pk)).content.decode()

    assert "Authorization" in page
    for hidden in (RAW_SECRET, HEADER_VALUE, world.webhook.secret_encrypted, world.webhook.headers_encrypted):
        assert hidden not in page


def test_webhook_secret_and_headers_are_replaced_through_the_admin(staff, world):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    form = webhook_form(staff.get(url), world.webhook, new_secret="whsec-new-1111",
                        new_headers="X-Token: abc\nX-Team: ops", event_types=["run.failed", "new_best_found"])

    assert staff.post(url, form).status_code == 302

    world.webhook.refresh_from_db()
    assert world.webhook.get_secret() == "whsec-new-1111"
    assert world.webhook.get_headers() == {"X-Token": "abc", "X-Team": "ops"}
    assert world.webhook.event_types == ["run.failed", "new_best_found"]


def test_changing_the_webhook_host_clears_its_secret_and_headers(staff, world):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)
    form = webhook_form(staff.get(url), world.webhook, url="https://elsewhere.example.net/pl")

    assert staff.post(url, form).status_code == 302

    world.webhook.refresh_from_db()
    assert not world.webhook.has_secret
    assert world.webhook.get_headers() == {}


@pytest.mark.parametrize("changes", [
    {"new_headers": "Host: evil.example.com"},
    {"new_headers": "not a header line"},
    {"event_types": ["no.such.event"]},
])
def test_bad_webhook_input_is_refused_and_nothing_changes(staff, world, changes):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)

    response = staff.post(url, webhook_form(staff.get(url), world.webhook, **changes))

    assert response.status_code == 200
    world.webhook.refresh_from_db()
    assert world.webhook.get_headers() == {"Authorization": HEADER_VALUE}
    assert world.webhook.event_types == ["run.failed"]


def test_a_webhook_cannot_point_at_another_users_project(staff, world, other_user):
    url = admin_url(WebhookConfig, "change", world.webhook.pk)

    response = staff.post(url, webhook_form(staff.get(url), world.webhook, owner=other_user.pk))

    assert "project" in response.context["adminform"].form.errors


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
    assert system.egress_allowlist == "llm.internal:8080\n10.0.0.0/8\n[fd00::1]:11434\n192.168.1.20"
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
    assert world.experiment.sample_data == [{"id": "item-1"}]

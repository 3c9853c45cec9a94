"""The deployments pages: list and add, the Overview (settings, keys shown once), Versions (add, identical
content, activate, delete, diff), Experiments (create, start, pause, complete with its decision, live metrics)
and promoting an approved run. Who may open them is page_table's matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.deployments.models import AbTest, Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.deployments.services.abtests import ab_test_create, ab_test_start
from apps.deployments.services.deployments import deployment_create
from apps.deployments.services.versions import version_create
from apps.endpoints.models import Endpoint
from apps.runs.models import Run
from apps.web.tests.builders import htmx, make_experiment, make_project, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(owner, fake_llm):
    return Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url)


@pytest.fixture
def deployment(owner, endpoint):
    return deployment_create(owner=owner, name="Support bot", endpoint=endpoint, model="fake-chat")


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def versions(deployment, *prompts: str) -> list[PromptVersion]:
    return [version_create(deployment=deployment, system_prompt=prompt)[0] for prompt in prompts]


def requests(ab_test: AbTest, successes: dict[str, tuple[int, int]]) -> None:
    """Gateway request rows per variant name: (successful, total), spread over the last minutes."""
    now = timezone.now()
    rows = []
    for variant in ab_test.variants.all():
        ok, total = successes[variant.name]
        rows += [GatewayRequest(deployment=ab_test.deployment, version=variant.version, ab_test=ab_test,
                                variant=variant, session_id=f"{variant.name}-{n}", model="fake-chat", status_code=200,
                                success=n < ok, latency_ms=50, cost_usd="0.0001",
                                created_at=now - timedelta(seconds=n))
                 for n in range(total)]
    GatewayRequest.objects.bulk_create(rows)


# The list and adding a deployment

def test_the_list_shows_my_deployments_with_their_active_version_test_and_traffic(signed_in, deployment,
                                                                                   other_user):
    v1, v2 = versions(deployment, "You help.", "You help briefly.")
    ab_test = ab_test_create(deployment=deployment, name="Brevity", variants=[
        {"name": "Control", "version": v1, "weight": 1}, {"name": "Short", "version": v2, "weight": 1}])
    ab_test_start(ab_test=ab_test)
    requests(ab_test, {"Control": (3, 4), "Short": (2, 3)})
    theirs = Endpoint.objects.create(owner=other_user, label="theirs", base_url="http://127.0.0.1:9/v1")
    deployment_create(owner=other_user, name="Their bot", endpoint=theirs, model="x")
    html = signed_in.get(reverse("web:deployments")).content.decode()
    assert "Support bot" in html and "Their bot" not in html
    assert ">v1</a>" in html and "Brevity" in html and "Running" in html
    assert '<td class="num">7</td>' in html
    assert 'href="/deployments/"' in html  # the header's navigation


def test_adding_a_deployment_lands_on_its_overview(signed_in, endpoint):
    response = signed_in.post(reverse("web:deployment_create"), {
        "name": "Support bot", "endpoint": str(endpoint.pk), "model": "fake-chat", "params": '{"temperature": 0.2}',
        "max_versions": "20", "auto_track": "on"})
    deployment = Deployment.objects.get(name="Support bot")
    assert response.status_code == 302 and response["Location"] == reverse("web:deployment", args=[deployment.pk])
    assert deployment.params == {"temperature": 0.2} and deployment.auto_track and deployment.max_versions == 20
    assert "Create a gateway key" in signed_in.get(response["Location"]).content.decode()


def test_a_taken_name_and_bad_parameters_are_shown_next_to_their_fields(signed_in, deployment, endpoint):
    data = {"name": "Support bot", "endpoint": str(endpoint.pk), "model": "fake-chat", "max_versions": "50"}
    response = signed_in.post(reverse("web:deployment_create"), data)
    assert response.status_code == 400
    assert "already have a deployment named" in response.context["form"].errors["name"][0]
    response = signed_in.post(reverse("web:deployment_create"), {**data, "name": "Other", "params": "[1, 2]"})
    assert response.status_code == 400 and "JSON object" in response.context["form"].errors["params"][0]
    response = signed_in.post(reverse("web:deployment_create"), {**data, "name": "Other",
                                                                 "params": '{"temperature": 9}'})
    assert response.status_code == 400 and response.context["form"].errors["params"]
    assert Deployment.objects.count() == 1


def test_the_model_list_comes_from_the_chosen_endpoint(signed_in, endpoint):
    html = signed_in.get(reverse("web:deployment_models"), {"endpoint": endpoint.pk}).content.decode()
    assert html.startswith('<span id="deployment-models"') and '<option value="fake-chat">' in html
    html = signed_in.get(reverse("web:deployment_models"), {"endpoint": "not-an-id"}).content.decode()
    assert "Choose an endpoint" in html


def test_editing_the_settings_saves_them(signed_in, deployment, endpoint):
    url = reverse("web:deployment", args=[deployment.pk])
    response = signed_in.post(url, {"name": "Renamed bot", "endpoint": str(endpoint.pk), "model": "fake-chat",
                                    "max_versions": "5", "description": "Now with a description"})
    deployment.refresh_from_db()
    assert response.status_code == 302 and deployment.name == "Renamed bot" and deployment.max_versions == 5


# Keys and the gateway snippet

def test_a_new_key_is_shown_once_and_only_its_prefix_afterwards(signed_in, deployment):
    url = reverse("web:deployment_key_create", args=[deployment.pk])
    response = htmx(signed_in, url, method="post", target="deployment-keys", data={"key-name": "production"})
    html = response.content.decode()
    key = DeploymentKey.objects.get(deployment=deployment)
    raw = next(part for part in html.split('value="')[1:] if part.startswith("plg_")).split('"')[0]
    assert response.status_code == 201 and html.lstrip().startswith('<section id="deployment-keys"')
    assert raw.startswith(f"plg_{key.prefix}_") and "It will not be shown again" in html
    page = signed_in.get(reverse("web:deployment", args=[deployment.pk])).content.decode()
    assert raw not in page and f"plg_{key.prefix}_…" in page and "production" in page


def test_revoking_a_key_marks_it_revoked(signed_in, deployment):
    signed_in.post(reverse("web:deployment_key_create", args=[deployment.pk]), {"key-name": "old"})
    key = DeploymentKey.objects.get(deployment=deployment)
    response = signed_in.post(reverse("web:deployment_key_revoke", args=[deployment.pk, key.pk]), follow=True)
    key.refresh_from_db()
    assert key.revoked_at is not None and "revoked" in response.content.decode()


def test_the_curl_snippet_names_this_servers_gateway_and_the_model(signed_in, deployment, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "pl.example.test"]
    html = signed_in.get(reverse("web:deployment", args=[deployment.pk]), HTTP_HOST="pl.example.test").content.decode()
    assert "curl http://pl.example.test/gateway/v1/chat/completions" in html and '"model": "fake-chat"' in html


def test_deleting_a_deployment_removes_it(signed_in, deployment):
    response = signed_in.post(reverse("web:deployment_delete", args=[deployment.pk]))
    assert response.status_code == 302 and not Deployment.objects.exists()


# Versions

def test_the_first_version_becomes_active_and_an_identical_one_is_not_added_again(signed_in, deployment):
    url = reverse("web:deployment_versions", args=[deployment.pk])
    signed_in.post(url, {"system_prompt": "You answer support emails.", "description": "First"})
    response = signed_in.post(url, {"system_prompt": "You answer support emails."}, follow=True)
    html = response.content.decode()
    assert PromptVersion.objects.filter(deployment=deployment).count() == 1
    assert "already exists as version 1; nothing was added" in html
    assert "Active</span>" in html and "First" in html


def test_a_version_needs_a_system_prompt_and_a_valid_template(signed_in, deployment):
    url = reverse("web:deployment_versions", args=[deployment.pk])
    response = signed_in.post(url, {"system_prompt": ""})
    assert response.status_code == 400 and response.context["form"].errors["system_prompt"]
    response = signed_in.post(url, {"system_prompt": "Hi", "user_template": "{% if %}"})
    assert response.status_code == 400 and response.context["form"].errors["user_template"]
    assert not PromptVersion.objects.exists()


def test_activating_a_version_makes_it_the_only_active_one(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    response = signed_in.post(reverse("web:version_activate", args=[v2.pk]), follow=True)
    assert "Version 2 is active" in response.content.decode()
    assert list(PromptVersion.objects.filter(is_active=True)) == [v2]


def test_only_a_version_that_is_not_active_can_be_deleted(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    response = signed_in.post(reverse("web:version_delete", args=[v1.pk]))
    assert response.status_code == 409 and "active version cannot be deleted" in response.content.decode()
    response = signed_in.post(reverse("web:version_delete", args=[v2.pk]))
    assert response.status_code == 302 and list(PromptVersion.objects.all()) == [v1]


def test_a_version_page_shows_the_words_changed_from_the_active_one(signed_in, deployment):
    _, v2 = versions(deployment, "You answer support emails politely.", "You answer support emails briefly.")
    html = signed_in.get(reverse("web:version", args=[v2.pk])).content.decode()
    assert "Changes from the active version (v1)" in html
    assert "politely" in html.split("<del>")[1] and "briefly" in html.split("<ins>")[1]


# A/B tests

def test_an_ab_test_needs_two_weighted_versions(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    url = reverse("web:deployment_abtests", args=[deployment.pk])
    response = signed_in.post(url, {"name": "Lonely", "control": str(v1.pk), f"weight_{v1.pk}": "50",
                                    "alpha": "0.05", "min_samples": "100"})
    errors = response.context["form"].errors
    assert response.status_code == 400 and "at least two versions" in str(errors)
    assert not AbTest.objects.exists()


def test_creating_an_ab_test_puts_the_control_first(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    url = reverse("web:deployment_abtests", args=[deployment.pk])
    response = signed_in.post(url, {"name": "Brevity", "control": str(v1.pk), f"weight_{v1.pk}": "70",
                                    f"weight_{v2.pk}": "30", "alpha": "0.05", "min_samples": "10",
                                    "max_latency_increase_pct": "20", "max_cost_increase_pct": ""})
    ab_test = AbTest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:abtest", args=[ab_test.pk])
    assert [(v.version, v.weight, v.position) for v in ab_test.variants.all()] == [(v1, 70, 0), (v2, 30, 1)]
    assert ab_test.status == AbTest.Status.DRAFT and ab_test.min_samples == 10
    assert ab_test.guardrails["max_cost_increase_pct"] == 20  # left blank: the default guardrail
    listing = signed_in.get(url).content.decode()
    assert "Brevity" in listing and "Draft" in listing


def test_a_running_test_polls_its_metrics_and_a_paused_one_stops(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    ab_test = ab_test_create(deployment=deployment, name="Brevity", variants=[
        {"name": "Control", "version": v1, "weight": 1}, {"name": "Short", "version": v2, "weight": 1}])
    url = reverse("web:abtest", args=[ab_test.pk])
    assert 'hx-trigger="every' not in signed_in.get(url).content.decode()
    signed_in.post(reverse("web:abtest_start", args=[ab_test.pk]))
    requests(ab_test, {"Control": (6, 10), "Short": (9, 10)})
    partial = htmx(signed_in, url, target="abtest-metrics").content.decode()
    assert partial.lstrip().startswith('<section id="abtest-metrics"') and 'hx-trigger="every 3s"' in partial
    assert "60.0%" in partial and "90.0%" in partial and "30.0 points" in partial
    signed_in.post(reverse("web:abtest_pause", args=[ab_test.pk]))
    partial = htmx(signed_in, url, target="abtest-metrics").content.decode()
    assert "hx-trigger" not in partial and "60.0%" in partial


def test_completing_a_test_with_a_clear_winner_activates_it_and_says_why(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "Two.")
    ab_test = ab_test_create(deployment=deployment, name="Brevity", min_samples=50, variants=[
        {"name": "Control", "version": v1, "weight": 1}, {"name": "Short", "version": v2, "weight": 1}])
    ab_test_start(ab_test=ab_test)
    requests(ab_test, {"Control": (100, 400), "Short": (380, 400)})
    response = signed_in.post(reverse("web:abtest_complete", args=[ab_test.pk]), follow=True)
    html = response.content.decode()
    assert "Winner: Short" in html and "now the active version" in html
    assert "Short was significantly better than Control" in html
    assert PromptVersion.objects.get(is_active=True) == v2


def test_completing_an_aa_test_keeps_the_control_and_says_so(signed_in, deployment):
    v1, v2 = versions(deployment, "One.", "One, again.")
    ab_test = ab_test_create(deployment=deployment, name="A/A", variants=[
        {"name": "Control", "version": v1, "weight": 1}, {"name": "Same", "version": v2, "weight": 1}])
    ab_test_start(ab_test=ab_test)
    requests(ab_test, {"Control": (80, 100), "Same": (80, 100)})
    html = signed_in.post(reverse("web:abtest_complete", args=[ab_test.pk]), follow=True).content.decode()
    assert "No winner: v1 stays active." in html
    assert "No variant was significantly better than Control" in html
    assert PromptVersion.objects.get(is_active=True) == v1


def test_starting_a_second_test_is_refused_with_a_message(signed_in, deployment):
    v1, v2, v3 = versions(deployment, "One.", "Two.", "Three.")
    first = ab_test_create(deployment=deployment, name="First", variants=[
        {"name": "A", "version": v1, "weight": 1}, {"name": "B", "version": v2, "weight": 1}])
    second = ab_test_create(deployment=deployment, name="Second", variants=[
        {"name": "A", "version": v1, "weight": 1}, {"name": "C", "version": v3, "weight": 1}])
    ab_test_start(ab_test=first)
    response = signed_in.post(reverse("web:abtest_start", args=[second.pk]), follow=True)
    assert "flash-error" in response.content.decode()
    second.refresh_from_db()
    assert second.status == AbTest.Status.DRAFT


# Promoting a run

@pytest.fixture
def approved_run(owner):
    run = make_run(make_experiment(make_project(owner)), approval=Run.Approval.APPROVED)
    run.config = {"stages": [{"name": "draft", "system_prompt": "You draft replies.", "model": "fake-chat",
                              "prompt_template": "{{ input }}", "params": {"temperature": 0.3}}]}
    run.save(update_fields=["config"])
    return run


def test_an_approved_runs_page_offers_to_promote_it(signed_in, approved_run):
    html = signed_in.get(reverse("web:run", args=[approved_run.pk])).content.decode()
    assert reverse("web:run_promote", args=[approved_run.pk]) in html
    Run.objects.filter(pk=approved_run.pk).update(approval="")
    html = signed_in.get(reverse("web:run", args=[approved_run.pk])).content.decode()
    assert reverse("web:run_promote", args=[approved_run.pk]) not in html


def test_promoting_a_run_adds_a_version_and_lands_on_the_versions_tab(signed_in, approved_run, deployment):
    response = signed_in.post(reverse("web:run_promote", args=[approved_run.pk]), {
        "deployment": str(deployment.pk), "stage": "0", "control_weight": "50", "new_weight": "50"}, follow=True)
    version = PromptVersion.objects.get(deployment=deployment)
    assert response.redirect_chain[-1][0] == reverse("web:deployment_versions", args=[deployment.pk])
    assert "Run promoted to version 1 of “Support bot”" in response.content.decode()
    assert version.system_prompt == "You draft replies." and version.source_run == approved_run


def test_promoting_with_an_ab_test_starts_it_against_the_active_version(signed_in, approved_run, deployment):
    versions(deployment, "The current prompt.")
    signed_in.post(reverse("web:run_promote", args=[approved_run.pk]), {
        "deployment": str(deployment.pk), "stage": "0", "start_ab_test": "on", "ab_test_name": "Offline winner",
        "control_weight": "80", "new_weight": "20"})
    ab_test = AbTest.objects.get()
    assert ab_test.name == "Offline winner" and ab_test.status == AbTest.Status.RUNNING
    assert [v.weight for v in ab_test.variants.all()] == [80, 20]


def test_a_run_that_is_not_approved_cannot_be_promoted(signed_in, approved_run, deployment):
    Run.objects.filter(pk=approved_run.pk).update(approval="")
    url = reverse("web:run_promote", args=[approved_run.pk])
    assert "Only an approved run can be promoted" in signed_in.get(url).content.decode()
    response = signed_in.post(url, {"deployment": str(deployment.pk), "stage": "0", "control_weight": "50",
                                    "new_weight": "50"})
    assert response.status_code == 400 and not PromptVersion.objects.exists()

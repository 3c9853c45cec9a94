"""Fixtures of the admin panel tests: a signed-in staff client and a world with a row in every model."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from apps.accounts.services import api_key_create
from apps.activity.models import Event
from apps.core.models import SystemSettings
from apps.deployments.models import AbTest, AbVariant, Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.exports.models import ExportRecord, SavedConfig
from apps.projects.models import Project
from apps.runs.models import ResponseCache, Run, Score, ScoreSummary, StageResult, Sweep
from apps.webhooks.models import WebhookConfig, WebhookDelivery

RAW_KEY = "sk-canary-endpoint-key-9f8e"
RAW_SECRET = "whsec-canary-signing-secret-77aa"
HEADER_VALUE = "Bearer canary-header-value-55bb"
ADMIN_MODELS = sorted(f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry)
EXPECTED_MODELS = {
    "accounts.user", "accounts.apikey", "core.systemsettings", "projects.project", "exports.savedconfig",
    "exports.exportrecord", "experiments.experiment", "runs.sweep", "runs.run", "runs.stageresult",
    "runs.score", "runs.responsecache", "activity.event", "endpoints.endpoint", "webhooks.webhookconfig",
    "webhooks.webhookdelivery", "django_q.schedule", "django_q.success", "django_q.failure",
    "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog", "runs.scoresummary",
    "deployments.deployment", "deployments.deploymentkey", "deployments.promptversion", "deployments.abtest",
    "deployments.gatewayrequest",
}
# django-q2 shows its queue table only with the database broker (no REDIS_URL).
if "orm" in settings.Q_CLUSTER:
    EXPECTED_MODELS.add("django_q.ormq")


def admin_url(model, action: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[quote(arg) for arg in args])


def valid_stages(endpoint: Endpoint) -> list[dict]:
    """Pipeline stages the experiment validator accepts for the endpoint's owner."""
    return [{"name": "answer", "endpoint": str(endpoint.pk), "model": "m", "prompt_template": "{{ input }}"}]


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


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def world(owner, admin_user):
    project = Project.objects.create(owner=owner, name="Support bot")
    endpoint = Endpoint(owner=owner, label="Local vLLM", base_url="http://127.0.0.1:8000/v1")
    endpoint.set_api_key(RAW_KEY)
    endpoint.save()
    experiment = Experiment.objects.create(project=project, name="Tone sweep",
                                           sample_data=[{"id": "item-1", "input": "hi"}],
                                           pipeline_stages=valid_stages(endpoint))
    sweep = Sweep.objects.create(experiment=experiment, kind=Sweep.Kind.GRID, runs_total=2)
    runs = [add_run(experiment, sweep, position) for position in range(2)]
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
    deployment = add_deployment(owner, project, endpoint, runs[0])
    return SimpleNamespace(
        deployment=deployment,
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


def add_deployment(owner, project: Project, endpoint: Endpoint, run: Run) -> Deployment:
    """A deployment with a key, two versions, an A/B test over them and one gateway request."""
    deployment = Deployment.objects.create(owner=owner, project=project, name="support-bot", endpoint=endpoint,
                                           model="m")
    DeploymentKey.objects.create(deployment=deployment, name="prod", prefix="abc123", hashed_key="0" * 64)
    versions = [PromptVersion.objects.create(deployment=deployment, number=n, system_prompt=f"prompt {n}",
                                             content_hash=str(n) * 64, is_active=n == 1, source_run=run)
                for n in (1, 2)]
    ab_test = AbTest.objects.create(deployment=deployment, name="tone a/b", status=AbTest.Status.RUNNING)
    variants = [AbVariant.objects.create(ab_test=ab_test, name=f"arm {n}", version=v, weight=50, position=n)
                for n, v in enumerate(versions)]
    GatewayRequest.objects.create(deployment=deployment, version=versions[0], ab_test=ab_test, variant=variants[0],
                                  endpoint=endpoint, model="m", status_code=200, success=True,
                                  created_at=timezone.now())
    return deployment


def inline_data(page) -> dict:
    """The management and id fields a change form posts back for its (read-only) inlines."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()})
        data.update({f"{form.prefix}-id": form.instance.pk for form in formset.initial_forms})
    return data

"""One realistic world for the page matrix and the accessibility audit, built once per test module.

A finished two-stage sweep driven by the real driver against the fake LLM server (runs, stage results,
keyword scores, a human rating, events), a second experiment with a sweep still queued, a saved best
configuration, an export, an endpoint and a webhook; and a second user with their own project.
The rows are committed (module scope), so each test's own writes still roll back; the module's
teardown flushes the database as a transactional test would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.experiments.services import experiment_create
from apps.exports.saved_configs import saved_config_create
from apps.exports.services import export_render
from apps.projects.models import Project
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, StageResult
from apps.runs.services.ratings import run_rate
from apps.runs.services.sweeps import sweep_start
from apps.web.tests.deployment_world import DeploymentWorld, deployments_build
from apps.webhooks.models import WebhookConfig, WebhookDelivery
from apps.webhooks.outbox import delivery_test_create
from apps.webhooks.services import webhook_create

PASSWORD = "correct horse battery"
TEMPERATURES = [0.1, 0.5, 0.9]


@dataclass
class World:
    admin: User
    owner: User
    other: User
    project: Project
    endpoint: Endpoint
    spare: Endpoint  # used by no experiment: deleting it is allowed
    finished: Experiment  # a completed sweep: leaderboard, chart, runs, ratings
    active: Experiment  # a sweep planned and queued, never driven: steering applies
    best: Run
    runner_up: Run
    webhook: WebhookConfig
    delivery: WebhookDelivery  # a test event that failed: it may be redelivered
    other_project: Project
    deployments: DeploymentWorld | None = None  # the owner's deployment, versions and A/B test

    def user(self, role: str) -> User | None:
        return {"owner": self.owner, "other": self.other, "admin": self.admin}.get(role)


def _experiment(owner: User, project: Project, endpoint: Endpoint, name: str) -> Experiment:
    stage = {"endpoint": str(endpoint.pk), "model": "fake-chat", "params": {"max_tokens": 32}}
    return experiment_create(user=owner, project=project, data={
        "name": name,
        "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": "document"} for n in range(3)],
        "pipeline_stages": [
            {**stage, "name": "draft", "system_prompt": "You draft replies.", "prompt_template": "Draft: {{ input }}"},
            {**stage, "name": "polish", "prompt_template": "Polish: {{ previous }}"},
        ],
        "parameter_space": [{"path": "stages.0.params.temperature", "values": TEMPERATURES}],
        "scoring_config": {"scorers": [
            {"type": "keyword", "name": "keyword", "weight": 1, "options": {"keywords": ["document"]}},
            {"type": "human", "name": "human", "weight": 1, "options": {"scale": "both"}},
        ]},
    })


def world_build(fake_llm) -> World:
    admin = User.objects.create_superuser(username="matrix-admin", password=PASSWORD)
    owner = User.objects.create_user(username="matrix-owner", password=PASSWORD)
    other = User.objects.create_user(username="matrix-other", password=PASSWORD)
    project = Project.objects.create(owner=owner, name="Support replies", description="Replies to emails",
                                     notes="Try a shorter system prompt.")
    endpoint = Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=4,
                                       model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})
    finished = _experiment(owner, project, endpoint, "Tone check")
    sweep, _ = sweep_start(user=owner, experiment=finished, kind="grid")
    sweep_drive(str(sweep.pk))
    runs = list(Run.objects.filter(experiment=finished).order_by("-weighted_score", "position"))
    assert len(runs) == len(TEMPERATURES) and all(run.status == Run.Status.COMPLETED for run in runs)
    assert StageResult.objects.filter(run__experiment=finished).count() == len(TEMPERATURES) * 3 * 2
    run_rate(user=owner, run=runs[0], rating={"stars": 4}, item_id="i0", repeat=0, comment="Clear and short.")
    saved_config_create(project=project, name="Tone check · best", config=runs[0].config, run_id=runs[0].pk)
    export_render(user=owner, experiment=finished, fmt="json")
    active = _experiment(owner, project, endpoint, "Shorter prompts")
    sweep_start(user=owner, experiment=active, kind="grid")
    webhook, _ = webhook_create(owner=owner, url="https://93.184.216.34/hooks", event_types=["new_best_found"])
    delivery = delivery_test_create(webhook=webhook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED, attempts=1,
                                                          last_error="connection refused")
    spare = Endpoint.objects.create(owner=owner, label="spare", base_url="http://127.0.0.1:9/v1")
    other_project = Project.objects.create(owner=other, name="Someone else's project")
    Experiment.objects.create(project=other_project, name="Their experiment")
    Endpoint.objects.create(owner=other, label="theirs", base_url="http://127.0.0.1:9/v1")
    return World(admin=admin, owner=owner, other=other, project=project, endpoint=endpoint, spare=spare,
                 finished=finished, active=active, best=runs[0], runner_up=runs[1], webhook=webhook,
                 delivery=delivery, other_project=other_project,
                 deployments=deployments_build(owner=owner, endpoint=endpoint))


@pytest.fixture(name="world", scope="module")
def world_fixture(django_db_setup, django_db_blocker, fake_llm_session) -> Any:
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        # No queue in these tests: the driver is called here, and nothing else should be rung.
        patch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
        patch.setattr("apps.core.queue.async_task", lambda *args, **kwargs: None)
        try:
            yield world_build(fake_llm_session)
        finally:
            call_command("flush", interactive=False, verbosity=0)

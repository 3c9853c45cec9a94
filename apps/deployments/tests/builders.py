"""Small builders for deployment tests (owner 12a; other slices' tests may use them too)."""

from __future__ import annotations

from apps.deployments.models import Deployment, PromptVersion
from apps.deployments.services.deployments import deployment_create
from apps.deployments.services.versions import version_create
from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import Run


def make_endpoint(owner, *, base_url: str = "http://127.0.0.1:9/v1", label: str = "fake") -> Endpoint:
    return Endpoint.objects.create(owner=owner, label=label, base_url=base_url,
                                   model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})


def make_deployment(owner, *, name: str = "support-bot", endpoint: Endpoint | None = None, **fields) -> Deployment:
    endpoint = endpoint or Endpoint.objects.filter(owner=owner).first() or make_endpoint(owner)
    return deployment_create(owner=owner, name=name, endpoint=endpoint, model=fields.pop("model", "fake-chat"),
                             **fields)


def make_version(deployment: Deployment, system_prompt: str = "You are terse.", **fields) -> PromptVersion:
    return version_create(deployment=deployment, system_prompt=system_prompt, **fields)[0]


def make_run(owner, *, stages: list[dict], approved: bool = True, endpoint: Endpoint | None = None) -> Run:
    """A finished run of a new experiment of `owner` whose config holds `stages` (endpoint filled in)."""
    endpoint = endpoint or Endpoint.objects.filter(owner=owner).first() or make_endpoint(owner)
    project = Project.objects.create(owner=owner, name=f"project {Project.objects.count() + 1}")
    experiment = Experiment.objects.create(project=project, name="Tone check")
    config = {"stages": [{"endpoint": str(endpoint.pk), "params": {}, "system_prompt": "", **s} for s in stages]}
    return Run.objects.create(experiment=experiment, config=config, config_hash="x" * 64,
                              status=Run.Status.COMPLETED,
                              approval=Run.Approval.APPROVED if approved else Run.Approval.NONE)

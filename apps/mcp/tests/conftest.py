"""Fixtures for the tool tests: an owner with an API key, REST with the same key, an endpoint on the fake LLM
server, experiments to act on, and sweeps that are either only queued or driven right away."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_key_create
from apps.endpoints.models import Endpoint
from apps.experiments.services import experiment_create
from apps.projects.models import Project
from apps.runs.driver import sweep_drive

SCORING = {"scorers": [{"type": "length", "name": "length", "weight": 1, "options": {"max": 200}},
                       {"type": "human", "name": "quality", "weight": 1}]}
TEMPERATURES = {"path": "stages.0.params.temperature", "values": [0.1, 0.5, 0.9]}


@dataclass(frozen=True)
class Agent:
    """One user, seen by MCP (`key`) and by REST (`rest`, the same key as a bearer)."""

    user: object
    key: str
    rest: APIClient


@pytest.fixture
def agent(owner) -> Agent:
    _, raw = api_key_create(user=owner, name="agent")
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Agent(user=owner, key=raw, rest=rest)


@pytest.fixture
def endpoint(owner, fake_llm) -> Endpoint:
    return Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=8,
                                   model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})


@pytest.fixture
def make_experiment(owner, endpoint):
    project = Project.objects.create(owner=owner, name="Summaries")

    def make(*, name: str = "exp", space: list | None = None, n_items: int = 2, **extra):
        return experiment_create(user=owner, project=project, data={
            "name": name, "sample_data": [{"id": f"i{n}", "input": f"document {n}"} for n in range(n_items)],
            "pipeline_stages": [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                                 "prompt_template": "Summarise: {{ input }}", "params": {"temperature": 0.3}}],
            "scoring_config": SCORING, "parameter_space": [TEMPERATURES] if space is None else space, **extra})

    return make


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """Sweeps are planned and queued but nobody drives them (so they can be steered while pending)."""
    calls: list[str] = []
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda func, sweep_id, **kw: calls.append(sweep_id))
    return calls


@pytest.fixture
def driven(monkeypatch) -> list[str]:
    """Sweeps are driven to the end as soon as they are queued, in the caller's thread (a worker, inline)."""
    calls: list[str] = []

    def drive(func, sweep_id, **kw):
        calls.append(sweep_id)
        sweep_drive(sweep_id)

    monkeypatch.setattr("apps.runs.services.sweeps.async_task", drive)
    return calls

"""Fixtures of the live experiment view's tests: an experiment the fake LLM server can run, and its sweeps.

Import the `*_fixture` functions; tests ask for them by their fixture names (`endpoint`, `runnable`, `started`).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.endpoints.models import Endpoint
from apps.experiments.services import experiment_create
from apps.runs.models import Sweep
from apps.runs.services.sweeps import sweep_start

TEMPERATURES = [0.1, 0.3, 0.5, 0.7]


def url(name: str, experiment, **kwargs) -> str:
    return reverse(f"web:{name}", kwargs={"experiment_id": experiment.pk, **kwargs})


@pytest.fixture(name="endpoint")
def endpoint_fixture(owner, fake_llm):
    return Endpoint.objects.create(owner=owner, label="fake", base_url=fake_llm.base_url, max_concurrency=4,
                                   model_prices={"fake-chat": {"input": 1.0, "output": 2.0}})


@pytest.fixture(name="runnable")
def runnable_fixture(owner, project, endpoint):
    """The owner's experiment: one stage over three items, four temperatures, a keyword scorer."""
    return experiment_create(user=owner, project=project, data={
        "name": "Tone check",
        "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": "document"} for n in range(3)],
        "pipeline_stages": [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                             "prompt_template": "Answer: {{ input }}", "params": {"max_tokens": 32}}],
        "parameter_space": [{"path": "stages.0.params.temperature", "values": TEMPERATURES}],
        "scoring_config": {"scorers": [{"type": "keyword", "options": {"keywords": ["document"]}}]},
    })


@pytest.fixture(name="started")
def started_fixture(owner, runnable) -> Sweep:
    """A grid sweep of `runnable`, planned and queued (no driver runs it in these tests)."""
    sweep, _ = sweep_start(user=owner, experiment=runnable, kind="grid")
    return sweep

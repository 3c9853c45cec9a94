"""Rows the cross-cutting tests fill route placeholders with."""

import pytest

from apps.experiments.models import Experiment
from apps.projects.models import Project


@pytest.fixture
def make_world(owner):
    """`make(endpoint, model=…)`: a project of `owner` with a one-stage experiment on `endpoint`; their ids."""
    def make(endpoint, *, model: str = "m") -> dict[str, str]:
        project = Project.objects.create(owner=owner, name="p")
        experiment = Experiment.objects.create(
            project=project, name="e", sample_data=[{"id": "1", "input": "hi"}],
            pipeline_stages=[{"name": "s", "endpoint": str(endpoint.pk), "model": model,
                              "prompt_template": "{{ input }}", "params": {}}],
        )
        return {"endpoint": str(endpoint.pk), "project": str(project.pk), "experiment": str(experiment.pk)}
    return make

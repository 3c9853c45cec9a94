"""Saving an experiment refuses a prompt template that would break a rendering limit whatever the data."""

import pytest

from apps.experiments.models import Experiment

LIST = "/api/v1/experiments"
BOMBS = [
    "{% set a = 'x'*3000 %}{% set b = [a]*999999 %}{{ b }}",
    "{{ 'x' * 10**9 }}",
    "{{ ('x' * 1000) * 1000000 }}",
    "{{ [[1]*1000]*1000 }}",
    "{{ 'x'.center(10**9) }}",
    "{{ '%s' % ('x' * 10**9) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ (1,) * 10**9 }}",
    "{{ 10**100000 }}",
    "{% set a = 'x' * 999999 %}{{ ('{0}' * 1000).format(a) }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
]


def payload(project, endpoint, template: str, **changes) -> dict:
    data = {
        "project": str(project.pk),
        "name": "Bombs",
        "sample_data": [{"id": "a", "input": "The cat sat."}],
        "pipeline_stages": [{"name": "draft", "endpoint": str(endpoint.pk), "model": "m1",
                             "prompt_template": template}],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("template", BOMBS)
def test_a_template_that_would_exhaust_the_worker_is_a_400_naming_the_template(api, project, endpoint, template):
    response = api.post(LIST, payload(project, endpoint, template), format="json")
    assert response.status_code == 400
    errors = response.json()["pipeline_stages.0.prompt_template"]
    assert errors[0].startswith("stage 'draft': ")
    assert Experiment.objects.count() == 0


def test_a_bomb_in_a_prompt_variant_axis_is_a_400_naming_the_value(api, project, endpoint):
    space = [{"path": "stages.0.prompt_template", "values": ["Hi {{ input }}", "{{ 'x' * 10**9 }}"]}]
    response = api.post(LIST, payload(project, endpoint, "{{ input }}", parameter_space=space), format="json")
    assert response.status_code == 400
    assert "parameter_space.0.values.1" in response.json()
    assert Experiment.objects.count() == 0


def test_patching_in_a_bomb_leaves_the_stored_template_unchanged(api, project, endpoint):
    created = api.post(LIST, payload(project, endpoint, "Summarize: {{ input }}"), format="json")
    assert created.status_code == 201, created.json()
    stages = created.json()["pipeline_stages"]
    stages[0]["prompt_template"] = "{% set a = 'x'*3000 %}{% set b = [a]*999999 %}{{ b }}"
    response = api.patch(f"{LIST}/{created.json()['id']}", {"pipeline_stages": stages}, format="json")
    assert response.status_code == 400
    assert "pipeline_stages.0.prompt_template" in response.json()
    stored = Experiment.objects.get(pk=created.json()["id"])
    assert stored.pipeline_stages[0]["prompt_template"] == "Summarize: {{ input }}"


def test_templates_whose_size_depends_on_the_data_are_still_accepted(api, project, endpoint):
    template = "{{ input * 3 }} {% for w in input.split() %}{{ w|upper }} {% endfor %}{{ input|center(40) }}"
    response = api.post(LIST, payload(project, endpoint, template), format="json")
    assert response.status_code == 201, response.json()

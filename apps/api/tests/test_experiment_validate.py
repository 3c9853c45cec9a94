"""POST /api/v1/experiments/validate checks a config as saving it would, and saves nothing."""

import pytest

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment

URL = "/api/v1/experiments/validate"


@pytest.fixture
def endpoint(owner):
    return Endpoint.objects.create(owner=owner, label="local", base_url="http://127.0.0.1:9/v1")


def body(endpoint, **changes) -> dict:
    return {"name": "Summaries", "sample_data": ["The cat sat."],
            "pipeline_stages": [{"endpoint": str(endpoint.pk), "model": "m1", "prompt_template": "Sum: {{ input }}"}],
            **changes}


def test_a_valid_config_comes_back_normalized_and_nothing_is_saved(api, endpoint):
    response = api.post(URL, body(endpoint), format="json")
    assert response.status_code == 200, response.content
    stored = response.json()["experiment"]
    assert stored["pipeline_stages"][0]["name"] == "stage1"
    assert stored["sample_data"] == [{"id": "1", "input": "The cat sat."}]
    assert Experiment.objects.count() == 0


def test_errors_are_keyed_by_field_path(api, endpoint):
    stages = [{"endpoint": str(endpoint.pk), "model": "m1", "prompt_template": "{{ missing }}"}]
    response = api.post(URL, body(endpoint, pipeline_stages=stages), format="json")
    assert response.status_code == 400
    assert "pipeline_stages.0.prompt_template" in response.json()


def test_another_users_endpoint_is_refused(other_api, endpoint):
    response = other_api.post(URL, body(endpoint), format="json")
    assert response.status_code == 400
    assert "pipeline_stages.0.endpoint" in response.json()


def test_anonymous_callers_are_refused(anon_api, endpoint):
    assert anon_api.post(URL, body(endpoint), format="json").status_code == 401

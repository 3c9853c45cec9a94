"""Why a webhook URL was refused, in the API and the admin; webhook scorer URLs obey the same rules."""

import pytest

from apps.endpoints.models import Endpoint
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.webhooks.models import WebhookConfig

pytestmark = pytest.mark.django_db


def test_an_ambiguous_address_is_explained(create_webhook):
    response = create_webhook("http://8.8.8.010/hook")
    assert "leading zeros are ambiguous" in response.json()["url"][0]


def test_a_metadata_address_stays_refused_even_when_everything_is_allowlisted(create_webhook, admin_api):
    admin_api.put("/api/v1/admin/settings", {"egress_allowlist": "0.0.0.0/0"}, format="json")
    response = create_webhook("http://0251.0376.0251.0376/latest")
    assert response.status_code == 400
    assert "cloud metadata address" in response.json()["url"][0]


def test_the_admin_form_refuses_an_ambiguous_webhook_url(add_in_admin):
    response = add_in_admin("http://0177.0.0.1/h")
    assert response.status_code == 200
    assert b"leading zeros are ambiguous" in response.content
    assert not WebhookConfig.objects.exists()


def scorer_experiment(api, owner, url):
    project = Project.objects.create(owner=owner, name="p")
    endpoint = Endpoint.objects.create(owner=owner, label="e", base_url="http://127.0.0.1:9/v1")
    body = {
        "project": str(project.pk), "name": "x", "sample_data": [{"id": "1", "input": "hi"}],
        "pipeline_stages": [{"name": "s", "endpoint": str(endpoint.pk), "model": "m",
                             "prompt_template": "{{ input }}"}],
        "scoring_config": {"scorers": [{"type": "webhook", "name": "grader", "options": {"url": url}}]},
    }
    return api.post("/api/v1/experiments", body, format="json")


@pytest.mark.parametrize("url", ["http://169.254.169.254/score", "http://[fd00:ec2::254]/score",
                                 "http://100.100.100.200/score", "http://0.0.0.0/score"])
def test_a_webhook_scorer_url_that_is_never_allowed_is_refused_naming_the_option(api, owner, url):
    response = scorer_experiment(api, owner, url)
    assert response.status_code == 400
    assert response.json()["scoring_config.scorers.0.options.url"]
    assert not Experiment.objects.exists()

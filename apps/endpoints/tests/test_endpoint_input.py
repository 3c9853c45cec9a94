"""Endpoint input: documented fields are accepted, unrequestable URLs refused, endpoints in use kept."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from apps.endpoints.models import Endpoint
from apps.endpoints.services import endpoint_create
from apps.experiments.models import Experiment
from apps.projects.models import Project

pytestmark = pytest.mark.django_db

UNREQUESTABLE = [
    "http://0177.0.0.1/x",
    "http://127.000.000.001/x",
    "http://[::1/x",
    "http://0251.0376.0251.0376:8000/v1",
    "http://0127.0.0.1:11434/v1",
    "http://2130706433/v1",
]
METADATA = [
    "http://169.254.169.254/v1",
    "http://[fd00:ec2::254]/v1",
    "http://100.100.100.200/v1",
    "http://169.254.170.2/v1",
    "http://0.0.0.0:8000/v1",
    "http://[::ffff:169.254.169.254]/v1",
]


@pytest.fixture
def endpoint(owner):
    return endpoint_create(owner=owner, label="local", base_url="http://127.0.0.1:9/v1")


def detail(endpoint) -> str:
    return f"/api/v1/endpoints/{endpoint.pk}"


def test_creating_an_inactive_endpoint_stores_is_active(api):
    response = api.post("/api/v1/endpoints", {"label": "off", "base_url": "http://h.example.com/v1",
                                              "is_active": False}, format="json")
    assert response.status_code == 201
    assert response.json()["is_active"] is False
    assert Endpoint.objects.get().is_active is False


@pytest.mark.parametrize("url", UNREQUESTABLE + METADATA)
def test_a_url_that_cannot_or_may_never_be_requested_is_refused_naming_base_url(api, url):
    response = api.post("/api/v1/endpoints", {"label": "x", "base_url": url}, format="json")
    assert response.status_code == 400
    assert response.json()["base_url"]
    assert not Endpoint.objects.exists()


def test_a_metadata_address_is_refused_with_a_clear_reason(api):
    response = api.post("/api/v1/endpoints", {"label": "x", "base_url": "http://169.254.169.254/v1"}, format="json")
    assert "cloud metadata address" in response.json()["base_url"][0]


def test_leading_zeros_are_explained(api):
    response = api.post("/api/v1/endpoints", {"label": "x", "base_url": "http://127.000.000.001:11434/v1"},
                        format="json")
    assert "leading zeros are ambiguous; write 127.0.0.1" in response.json()["base_url"][0]


@pytest.mark.parametrize("url", ["http://0177.0.0.1/x", "http://[::1/x", "http://169.254.169.254/v1"])
def test_moving_an_endpoint_to_a_refused_url_changes_nothing(api, endpoint, url):
    response = api.patch(detail(endpoint), {"base_url": url}, format="json")
    assert response.status_code == 400
    assert "base_url" in response.json()
    endpoint.refresh_from_db()
    assert endpoint.base_url == "http://127.0.0.1:9/v1"


def test_a_link_local_endpoint_is_accepted_once_an_admin_allowlists_it(api, admin_api):
    body = {"label": "x", "base_url": "http://[fe80::1]:8000/v1"}
    assert api.post("/api/v1/endpoints", body, format="json").status_code == 400
    admin_api.put("/api/v1/admin/settings", {"egress_allowlist": "fe80::/64"}, format="json")
    assert api.post("/api/v1/endpoints", body, format="json").status_code == 201


def experiment_with(owner, *, stage=None, axis=None, judge=None, name="uses it") -> Experiment:
    project = Project.objects.get_or_create(owner=owner, name="p")[0]
    other = endpoint_create(owner=owner, label=f"other {name}", base_url="http://127.0.0.1:8/v1")
    stage_endpoint = stage or other
    scorers = [{"type": "llm_judge", "name": "judge", "weight": 1, "options": {
        "endpoint": str(judge.pk), "model": "m"}}] if judge else []
    space = [{"path": "stages.0.endpoint", "values": [str(other.pk), str(axis.pk)]}] if axis else []
    return Experiment.objects.create(
        project=project, name=name, sample_data=[{"id": "1", "input": "hi"}], parameter_space=space,
        scoring_config={"scorers": scorers},
        pipeline_stages=[{"name": "s", "endpoint": str(stage_endpoint.pk), "model": "m",
                          "prompt_template": "{{ input }}", "params": {}}],
    )


@pytest.mark.parametrize("where", ["stage", "axis", "judge"])
def test_deleting_an_endpoint_an_experiment_uses_is_refused_naming_it(api, owner, endpoint, where):
    experiment_with(owner, **{where: endpoint})
    response = api.delete(detail(endpoint))
    assert response.status_code == 409
    assert response.json()["experiments"] == ["uses it"]
    assert "uses it" in response.json()["detail"]
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_refusal_names_the_first_few_experiments_and_counts_them_all(api, owner, endpoint):
    for number in range(7):
        experiment_with(owner, stage=endpoint, name=f"exp {number}")
    body = api.delete(detail(endpoint)).json()
    assert body["count"] == 7
    assert body["experiments"] == [f"exp {number}" for number in range(5)]
    assert "and 2 more" in body["detail"]


def test_an_endpoint_no_experiment_uses_is_deleted(api, owner, endpoint):
    experiment_with(owner)
    assert api.delete(detail(endpoint)).status_code == 204
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def admin_url(action: str, *args) -> str:
    return reverse(f"admin:endpoints_endpoint_{action}", args=[quote(arg) for arg in args])


def test_the_admin_refuses_to_delete_an_endpoint_in_use(client, admin_user, owner, endpoint):
    experiment_with(owner, stage=endpoint)
    client.force_login(admin_user)
    page = client.get(admin_url("delete", endpoint.pk))
    assert b"uses it" in page.content
    client.post(admin_url("delete", endpoint.pk), {"post": "yes"})
    bulk = {"action": "delete_selected", "_selected_action": [endpoint.pk], "post": "yes"}
    client.post(admin_url("changelist"), bulk)
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_admin_form_refuses_an_unrequestable_url(client, admin_user, owner):
    client.force_login(admin_user)
    response = client.post(admin_url("add"), {
        "owner": owner.pk, "label": "x", "kind": "openai", "base_url": "http://0177.0.0.1/v1", "is_active": "on",
        "max_concurrency": 4, "connect_timeout_s": 5, "read_timeout_s": 120, "model_prices": "{}",
    })
    assert response.status_code == 200
    assert b"leading zeros are ambiguous" in response.content
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(("url", "code", "words"), [
    ("http://[::1/x", "invalid_url", "not a valid URL"),
    ("http://0127.0.0.1:11434/v1", "invalid_url", "leading zeros are ambiguous"),
    ("http://0251.0376.0251.0376:8000/v1", "blocked", "cloud metadata address"),
])
def test_testing_an_endpoint_stored_with_an_unusable_url_explains_it(api, owner, url, code, words):
    stored = Endpoint.objects.create(owner=owner, label="old", base_url=url)
    response = api.post(f"{detail(stored)}/test")
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["error"] == code and words in response.json()["detail"]

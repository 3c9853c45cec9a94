"""Out-of-range numbers and stale endpoint ids get a 400 naming the field, never a server error."""

import pytest

from apps.endpoints.models import Endpoint
from apps.runs.models import Run, Score, Sweep

pytestmark = pytest.mark.django_db

HUGE = [2**63, 10**30, -(2**63) - 1]


@pytest.fixture
def experiment(make_experiment):
    return make_experiment(n_items=2, space=[])


def sweep_url(experiment) -> str:
    return f"/api/v1/experiments/{experiment.pk}/sweep"


@pytest.mark.parametrize("param", ["offset", "limit"])
def test_a_leaderboard_page_beyond_64_bits_is_refused_naming_the_parameter(api, experiment, param):
    response = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard?{param}={10**30}")
    assert response.status_code == 400
    assert param in response.json()


@pytest.mark.parametrize("value", HUGE)
def test_a_sweep_seed_beyond_64_bits_is_refused_and_no_sweep_starts(api, experiment, enqueued, value):
    response = api.post(sweep_url(experiment), {"type": "grid", "seed": value}, format="json")
    assert response.status_code == 400
    assert "seed" in response.json()
    assert not Sweep.objects.exists()


@pytest.mark.parametrize("value", HUGE[:2])
def test_a_token_budget_beyond_64_bits_is_refused_and_no_sweep_starts(api, experiment, enqueued, value):
    response = api.post(sweep_url(experiment), {"type": "grid", "budget_tokens": value}, format="json")
    assert response.status_code == 400
    assert "budget_tokens" in response.json()
    assert not Sweep.objects.exists()


def test_a_redirect_seed_beyond_64_bits_is_refused(api, experiment, enqueued):
    api.post(sweep_url(experiment), {"type": "grid"}, format="json")
    space = [{"path": "stages.0.model", "values": ["fake-chat"]}]
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect",
                        {"parameter_space": space, "type": "random", "n": 1, "seed": 10**30}, format="json")
    assert response.status_code == 400
    assert "seed" in response.json()


def test_a_rating_for_a_repeat_beyond_64_bits_is_refused(api, experiment):
    run = Run.objects.create(experiment=experiment, config={}, config_hash="h", status=Run.Status.COMPLETED)
    response = api.post(f"/api/v1/runs/{run.pk}/score", {"thumbs": "up", "repeat": 10**30}, format="json")
    assert response.status_code == 400
    assert "repeat" in response.json()
    assert not Score.objects.exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_sweep_whose_stage_endpoint_was_deleted_is_refused_naming_the_stage(
        api, experiment, endpoint, enqueued, dry_run):
    Endpoint.objects.filter(pk=endpoint.pk).delete()
    response = api.post(sweep_url(experiment), {"type": "grid", "dry_run": dry_run}, format="json")
    assert response.status_code == 400
    assert "no longer exists" in response.json()["pipeline_stages.0.endpoint"][0]
    assert not Sweep.objects.exists()


def test_a_sweep_whose_judge_endpoint_was_deleted_is_refused_naming_the_option(
        api, make_experiment, owner, endpoint, enqueued):
    judge = Endpoint.objects.create(owner=owner, label="judge", base_url="http://127.0.0.1:9/v1")
    scoring = {"scorers": [{"type": "llm_judge", "name": "judge", "options": {
        "endpoint": str(judge.pk), "model": "fake-chat", "prompt": "Rate {{ output }}. SCORE:"}}]}
    experiment = make_experiment(n_items=2, space=[], scoring_config=scoring)
    Endpoint.objects.filter(pk=judge.pk).delete()
    response = api.post(sweep_url(experiment), {"type": "grid", "dry_run": True}, format="json")
    assert response.status_code == 400
    assert "scoring_config.scorers.0.options.endpoint" in response.json()


def test_a_sweep_over_a_deleted_endpoint_axis_value_is_refused_naming_the_value(
        api, make_experiment, owner, endpoint, enqueued):
    spare = Endpoint.objects.create(owner=owner, label="spare", base_url="http://127.0.0.1:9/v1")
    space = [{"path": "stages.0.endpoint", "values": [str(endpoint.pk), str(spare.pk)]}]
    experiment = make_experiment(n_items=2, space=space)
    Endpoint.objects.filter(pk=spare.pk).delete()
    response = api.post(sweep_url(experiment), {"type": "grid"}, format="json")
    assert response.status_code == 400
    assert "parameter_space.0.values.1" in response.json()
    assert not Sweep.objects.exists()

"""A human rating must name a repeat and an item the run really has; a refused one changes nothing."""

import pytest

from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Score, Sweep

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rated_run(api, make_experiment, endpoint, enqueued) -> Run:
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}"}]
    config = {"scorers": [{"type": "keyword", "weight": 1, "options": {"keywords": ["nowhere-to-be-found"]}},
                          {"type": "human", "name": "human", "weight": 1, "options": {"scale": "both"}}]}
    experiment = make_experiment(stages=stage, n_items=1, space=[], repeats=2, scoring_config=config)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    sweep_drive(str(Sweep.objects.get(pk=response.json()["sweep"]["id"]).pk))
    run = Run.objects.get()
    assert api.post(f"/api/v1/runs/{run.pk}/score", {"stars": 1, "item_id": "i0", "repeat": 1},
                    format="json").status_code == 201
    run.refresh_from_db()
    return run


def test_a_rating_for_a_repeat_beyond_the_runs_repeats_is_refused_and_changes_nothing(api, rated_run):
    before = (rated_run.weighted_score, Score.objects.filter(run=rated_run).count())
    response = api.post(f"/api/v1/runs/{rated_run.pk}/score", {"stars": 5, "item_id": "i0", "repeat": 2},
                        format="json")
    assert response.status_code == 400
    assert "repeat" in response.json()
    rated_run.refresh_from_db()
    assert (rated_run.weighted_score, Score.objects.filter(run=rated_run).count()) == before


def test_a_rating_for_an_item_the_run_does_not_have_is_refused_and_changes_nothing(api, rated_run):
    before = (rated_run.weighted_score, Score.objects.filter(run=rated_run).count())
    response = api.post(f"/api/v1/runs/{rated_run.pk}/score", {"thumbs": "up", "item_id": "i7"}, format="json")
    assert response.status_code == 400
    assert "item_id" in response.json()
    rated_run.refresh_from_db()
    assert (rated_run.weighted_score, Score.objects.filter(run=rated_run).count()) == before


def test_a_rating_for_a_repeat_the_run_has_counts(api, rated_run):
    before = rated_run.weighted_score
    response = api.post(f"/api/v1/runs/{rated_run.pk}/score", {"stars": 5, "item_id": "i0", "repeat": 0},
                        format="json")
    assert response.status_code == 201
    assert response.json()["weighted_score"] > before

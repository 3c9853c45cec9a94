"""Stored scoring configs that no longer validate (old rows) must not break the readers."""

import pytest

from apps.experiments.models import Experiment
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

JUDGE_WITHOUT_ENDPOINT = {"type": "llm_judge", "name": "quality", "weight": 1, "options": {}}


@pytest.fixture
def finished_run(api, make_experiment, endpoint, enqueued) -> Run:
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}"}]
    config = {"scorers": [{"type": "human", "name": "human", "weight": 1, "options": {"scale": "both"}}]}
    experiment = make_experiment(stages=stage, n_items=1, space=[], scoring_config=config)
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    sweep_drive(str(Sweep.objects.get(pk=response.json()["sweep"]["id"]).pk))
    return Run.objects.get()


def test_rating_a_run_whose_stored_judge_has_no_endpoint_still_counts_the_rating(api, finished_run):
    stored = {"scorers": [JUDGE_WITHOUT_ENDPOINT, {"type": "human", "name": "human", "weight": 1, "options": {}}]}
    Experiment.objects.filter(pk=finished_run.experiment_id).update(scoring_config=stored)
    response = api.post(f"/api/v1/runs/{finished_run.pk}/score", {"thumbs": "up"}, format="json")
    assert response.status_code == 201
    assert response.json()["value"] == 1.0


def test_the_leaderboard_of_an_experiment_with_a_broken_stored_scorer_still_answers(api, finished_run):
    stored = {"scorers": [JUDGE_WITHOUT_ENDPOINT]}
    Experiment.objects.filter(pk=finished_run.experiment_id).update(scoring_config=stored)
    response = api.get(f"/api/v1/experiments/{finished_run.experiment_id}/leaderboard")
    assert response.status_code == 200


def test_a_sweep_with_a_broken_stored_scorer_finishes_and_its_scores_say_why(api, finished_run, enqueued):
    stored = {"scorers": [JUDGE_WITHOUT_ENDPOINT, {"type": "length", "name": "length", "weight": 1,
                                                   "options": {"max": 1000}}]}
    Experiment.objects.filter(pk=finished_run.experiment_id).update(scoring_config=stored)
    Run.objects.all().delete()
    response = api.post(f"/api/v1/experiments/{finished_run.experiment_id}/sweep", {}, format="json")
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    run = Run.objects.get(sweep=sweep)
    assert sweep.status == Sweep.Status.COMPLETED
    judged = run.scores.get(scorer_name="quality")
    assert judged.value is None and "quality' is misconfigured: endpoint: This option is required" in judged.error
    assert run.scores.get(scorer_name="length").value is not None

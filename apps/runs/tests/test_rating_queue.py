"""The rating queue's reads and a run's outputs page, over a sweep driven against the fake LLM server."""

import pytest
from django.test import Client

from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Score, Sweep
from apps.runs.rating_queue import final_outputs, queue_next, rating_progress, rating_scorer
from apps.runs.run_outputs import run_item_ids, run_item_outputs
from apps.runs.services.ratings import run_rate

pytestmark = pytest.mark.django_db(transaction=True)

HUMAN = {"type": "human", "name": "taste", "weight": 1, "options": {"scale": "stars"}}


@pytest.fixture
def swept(api, make_experiment, enqueued):
    """Two finished runs of a two-stage pipeline over two items, repeated twice."""
    experiment = make_experiment(n_items=2, repeats=2, space=[{"path": "stages.0.model",
                                                               "values": ["fake-chat", "fake-chat-large"]}],
                                 scoring_config={"scorers": [HUMAN]})
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", {}, format="json")
    sweep_drive(str(Sweep.objects.get(pk=response.json()["sweep"]["id"]).pk))
    assert Run.objects.filter(experiment=experiment).finished().count() == 2
    return experiment


def test_the_final_outputs_are_the_last_stage_of_every_item_and_repeat_of_finished_runs(swept):
    outputs = list(final_outputs(experiment=swept))
    assert len(outputs) == 2 * 2 * 2
    assert {o.stage_index for o in outputs} == {1}
    assert rating_progress(experiment=swept, scorer_name="taste") == (0, 8)


def test_the_queue_counts_under_the_experiments_human_scorer_and_moves_past_rated_outputs(swept, owner):
    scorer = rating_scorer(experiment=swept)
    assert (scorer.name, scorer.options["scale"]) == ("taste", "stars")
    first = queue_next(experiment=swept, scorer_name="taste")
    run_rate(user=owner, run=first.result.run, rating={"stars": 4}, item_id=first.result.item_id,
             repeat=first.result.repeat)
    second = queue_next(experiment=swept, scorer_name="taste")
    assert (second.result.item_id, second.result.repeat) != (first.result.item_id, first.result.repeat)
    assert second.item["input"].startswith("document number")
    assert rating_progress(experiment=swept, scorer_name="taste") == (1, 8)
    assert queue_next(experiment=swept, scorer_name="taste", skip=7) is None


def test_a_rating_for_a_whole_item_covers_all_its_repeats(swept, owner):
    run = Run.objects.filter(experiment=swept).order_by("position").first()
    run_rate(user=owner, run=run, rating={"stars": 2}, item_id="i0")
    assert rating_progress(experiment=swept, scorer_name="taste") == (2, 8)


def test_a_page_of_outputs_groups_every_call_and_score_by_item_and_repeat(swept, owner):
    run = Run.objects.filter(experiment=swept).order_by("position").first()
    run_rate(user=owner, run=run, rating={"stars": 5}, item_id="i1", repeat=1)
    assert list(run_item_ids(run=run)) == ["i0", "i1"]
    [item] = run_item_outputs(run=run, item_ids=["i1"])
    assert [r.repeat for r in item.repeats] == [0, 1]
    assert [len(r.stages) for r in item.repeats] == [2, 2]
    assert item.repeats[1].final.stage_index == 1 and item.repeats[1].ratings[0].value == 1.0
    assert Score.objects.filter(run=run, rated_by=owner).count() == 1


def test_the_run_page_shows_what_the_driver_sent_and_received(swept, owner):
    run = Run.objects.filter(experiment=swept).order_by("position").first()
    result = run.stage_results.get(item_id="i0", repeat=0, stage_index=0)
    client = Client()
    client.force_login(owner)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert "You extract facts." in html and "Extract from: document number 0" in html
    assert result.response_raw.split("\n")[0][:40].replace("'", "&#x27;").replace('"', "&quot;") in html
    assert html.count("Save rating") == 4  # 2 items × 2 repeats on the first page

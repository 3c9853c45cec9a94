"""The demo project's sweep, run end to end, produces a clear winner over the fake server's demo models."""

from __future__ import annotations

import pytest

from apps.experiments.models import Experiment
from apps.fakellm import demo as fake_demo
from apps.instance.demo import CHECKLIST_PROMPT, DEMO_ITEMS, RUBRIC_KEYWORDS, demo_seed
from apps.runs.driver import sweep_drive
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.models import Sweep
from apps.runs.services.sweeps import sweep_start


@pytest.fixture
def demo_experiment(db, owner, settings, fake_llm):
    settings.DEFAULT_ENDPOINT_URL = fake_llm.base_url
    settings.DEMO_PROJECT = True
    demo_seed(user=owner)
    return Experiment.objects.get(project__owner=owner, project__name="Demo: support replies")


@pytest.mark.django_db(transaction=True)
def test_the_demo_sweep_has_a_winner_whose_interval_clears_the_worst_run(demo_experiment, owner, monkeypatch,
                                                                         fake_llm):
    monkeypatch.setattr("apps.runs.services.sweeps.async_task", lambda *args, **kwargs: None)
    sweep, _ = sweep_start(user=owner, experiment=demo_experiment, kind="grid")
    assert sweep.runs_total == 12

    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and fake_llm.stats["chat"] == 12 * len(DEMO_ITEMS)
    total, rows = leaderboard_rows(experiment=demo_experiment, limit=50)
    best, worst = rows[0], rows[-1]
    assert total == 12 and best.weighted_ci[0] > worst.weighted_ci[1]
    assert best.run.point == {"stages.0.system_prompt": CHECKLIST_PROMPT, "stages.0.params.temperature": 0.2,
                              "stages.0.model": "demo-pro"}
    assert worst.run.point["stages.0.params.temperature"] == 1.0


def test_the_demo_scores_the_keywords_the_demo_models_know(demo_experiment):
    keyword = next(s for s in demo_experiment.scoring_config["scorers"] if s["type"] == "keyword")
    assert keyword["options"]["keywords"] == RUBRIC_KEYWORDS == fake_demo.RUBRIC_KEYWORDS
    models = next(a for a in demo_experiment.parameter_space if a["path"] == "stages.0.model")["values"]
    assert set(models) <= set(fake_demo.DEMO_MODELS)


def test_every_reference_holds_the_rubric_and_no_customer_message_gives_it_away():
    assert len(DEMO_ITEMS) == 12 and len({item["id"] for item in DEMO_ITEMS}) == 12
    for item in DEMO_ITEMS:
        assert all(word in item["reference"].casefold() for word in RUBRIC_KEYWORDS)
        assert not any(word in item["input"].casefold() for word in RUBRIC_KEYWORDS)


def test_the_demo_endpoint_needs_no_api_key(demo_experiment):
    endpoint = demo_experiment.project.owner.endpoints.get()
    assert endpoint.label == "Default endpoint" and not endpoint.has_api_key

"""The JSON and YAML exports say whether the exported run is really better than the best other run."""

from __future__ import annotations

import json

import pytest
import yaml

from apps.exports.tests.builders import make_experiment, make_run
from apps.exports.tests.test_significance_exports import N_ITEMS, rescored
from apps.runs.models import Run

pytestmark = pytest.mark.django_db

BASE = [0.3 + 0.6 * (i % 7) / 6 for i in range(N_ITEMS)]


def export(api, experiment, fmt="best", **query) -> dict:
    response = api.get(f"/api/v1/experiments/{experiment.pk}/export/{fmt}", query)
    assert response.status_code == 200, response.content
    if fmt == "yaml":
        return yaml.safe_load(response.content.decode())["metadata"]
    return json.loads(response.content.decode())


@pytest.fixture
def experiment(owner, endpoint):
    return make_experiment(owner, endpoint)


def scored(experiment, position: int, values: list[float], **kwargs) -> Run:
    return rescored(make_run(experiment, position=position,
                             point={"stages.0.params.temperature": round(0.1 * (position + 1), 1)}, **kwargs), values)


def test_a_clear_winner_is_exported_as_significantly_better_than_the_runner_up(api, experiment):
    best = scored(experiment, 0, [min(1.0, v + 0.15) for v in BASE])
    runner_up = scored(experiment, 1, BASE)
    sig = export(api, experiment)["significance"]
    assert sig["compared_with"] == str(runner_up.pk) and sig["compared_score"] == round(runner_up.weighted_score, 4)
    assert (sig["verdict"], sig["tied"], sig["significant"]) == ("better", False, True)
    assert sig["test"] == "wilcoxon" and sig["alternative"] == "two-sided" and sig["n"] == N_ITEMS
    assert sig["p_value"] < 0.001 and sig["alpha"] == 0.05
    assert 0.1 < sig["ci_low"] < sig["mean_difference"] < sig["ci_high"] < 0.2
    assert best.weighted_score > runner_up.weighted_score


def test_a_best_run_within_noise_of_the_runner_up_is_exported_as_tied(api, experiment):
    scored(experiment, 0, [min(1.0, v + 0.15) for v in BASE], approval=Run.Approval.APPROVED)
    close = scored(experiment, 1, [min(1.0, v + 0.15 + (0.02 if i % 2 else -0.02)) for i, v in enumerate(BASE)])
    scored(experiment, 2, BASE)
    sig = export(api, experiment)["significance"]
    assert sig["compared_with"] == str(close.pk)
    assert (sig["verdict"], sig["tied"], sig["significant"]) == ("tied", True, False) and sig["p_value"] > 0.05


def test_the_yaml_export_carries_the_same_verdict_under_metadata(api, experiment):
    scored(experiment, 0, [min(1.0, v + 0.15) for v in BASE])
    scored(experiment, 1, BASE)
    from_json = export(api, experiment)["significance"]
    assert export(api, experiment, "yaml")["significance"] == from_json


def test_a_chosen_weaker_run_is_exported_as_significantly_worse_than_the_best(api, experiment):
    best = scored(experiment, 0, [min(1.0, v + 0.15) for v in BASE])
    weaker = scored(experiment, 1, BASE)
    body = export(api, experiment, run=str(weaker.pk))
    assert body["run_id"] == str(weaker.pk)
    sig = body["significance"]
    assert sig["compared_with"] == str(best.pk) and sig["verdict"] == "worse" and sig["mean_difference"] < -0.1


def test_pass_fail_scores_are_compared_with_mcnemar(api, owner, endpoint):
    experiment = make_experiment(owner, endpoint, name="Labels")
    experiment.scoring_config = {"scorers": [{"type": "exact_match", "name": "quality", "weight": 1},
                                             {"type": "length", "name": "length", "weight": 0}]}
    experiment.save()
    scored(experiment, 0, [1.0] * N_ITEMS)
    scored(experiment, 1, [float(i % 2) for i in range(N_ITEMS)])
    sig = export(api, experiment)["significance"]
    assert sig["test"] == "mcnemar_exact" and sig["b_better"] == N_ITEMS // 2 and sig["a_better"] == 0
    assert sig["verdict"] == "better"


def test_an_experiment_with_one_finished_run_exports_no_comparison(api, experiment):
    scored(experiment, 0, BASE)
    make_run(experiment, position=1, score=None, status=Run.Status.PENDING)
    assert export(api, experiment)["significance"] is None


def test_partial_runs_of_a_halving_rung_are_not_the_runner_up(api, experiment):
    scored(experiment, 0, BASE)
    rung = scored(experiment, 1, [min(1.0, v + 0.3) for v in BASE])
    Run.objects.filter(pk=rung.pk).update(sample_ids=["item0", "item1"])
    assert export(api, experiment)["significance"] is None

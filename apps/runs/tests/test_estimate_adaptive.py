"""Dry-run estimates of adaptive sweeps (tpe, halving, prompt_search, agent): call bounds priced per call,
calibrated like a grid's, and budgets that refuse them saying by how much."""

import pytest

from apps.endpoints.models import Endpoint
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

SCORING = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 400}}]}
FIRST = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
         {"path": "stages.0.params.temperature", "values": [0.1, 0.3, 0.5]}]
SECOND = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
          {"path": "stages.0.params.temperature", "values": [0.7, 0.8, 0.9, 1.0, 1.1]}]


def post(api, experiment, **body):
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")


def dry_run(api, experiment, **body) -> dict:
    response = post(api, experiment, dry_run=True, **body)
    assert response.status_code == 200, response.content
    return response.json()


def swept(api, experiment, **body) -> Sweep:
    response = post(api, experiment, **body)
    assert response.status_code == 202, response.content
    sweep_id = response.json()["sweep"]["id"]
    sweep_drive(sweep_id)
    sweep = Sweep.objects.get(pk=sweep_id)
    assert sweep.status == Sweep.Status.COMPLETED
    return sweep


def within(bounds: dict, actual: float) -> bool:
    return bounds["low"] <= actual <= bounds["high"]


@pytest.fixture
def scored(make_experiment):
    return lambda **extra: make_experiment(scoring_config=SCORING, **extra)


def test_a_tpe_dry_run_counts_n_configurations_on_every_item_and_saves_nothing(api, scored, enqueued):
    experiment = scored(space=FIRST)

    body = dry_run(api, experiment, type="tpe", n=4, batch=2, seed=3)

    estimate = body["estimate"]
    assert body["runs"] == 4 and body["calls"] == 4 * 5 * 2  # 5 items × 2 stages
    assert estimate["adaptive"] and estimate["runs_range"] == {"low": 4, "high": 4}
    assert estimate["planner"] is None and len(body["points"]) == 2  # the first batch
    assert 0 < estimate["tokens"]["low"] <= estimate["tokens"]["expected"] <= estimate["tokens"]["high"]
    assert not Sweep.objects.exists() and not Run.objects.exists()


def test_after_one_tpe_sweep_the_estimate_of_a_second_is_within_a_quarter_of_its_real_tokens(
        api, scored, enqueued):
    experiment = scored(space=FIRST)
    swept(api, experiment, type="tpe", n=4, batch=2, seed=1)

    estimate = dry_run(api, experiment, type="tpe", n=6, batch=3, seed=2, parameter_space=SECOND)["estimate"]
    sweep = swept(api, experiment, type="tpe", n=6, batch=3, seed=2, parameter_space=SECOND)

    assert sweep.cache_hits == 0 and estimate["cached_calls"] == 0
    assert {entry["source"] for entry in estimate["calibration"]} == {"history"}
    actual = sweep.tokens_in + sweep.tokens_out
    assert abs(estimate["tokens"]["expected"] - actual) <= 0.25 * actual
    assert abs(estimate["tokens_in"] - sweep.tokens_in) <= 0.25 * sweep.tokens_in
    assert abs(estimate["tokens_out"] - sweep.tokens_out) <= 0.25 * sweep.tokens_out
    assert within(estimate["tokens"], actual)
    assert estimate["cost_usd_range"]["low"] <= float(sweep.cost_usd) <= estimate["cost_usd_range"]["high"]


def test_a_halving_dry_run_makes_the_calls_the_sweep_makes_and_counts_promoted_items_as_cached(
        api, scored, enqueued):
    experiment = scored(space=FIRST, n_items=9)
    body = {"type": "halving", "seed": 5, "options": {"eta": 3, "min_items": 1}}

    estimate = dry_run(api, experiment, **body)["estimate"]
    sweep = swept(api, experiment, **body)

    runs = Run.objects.filter(sweep=sweep)
    assert estimate["runs"] == runs.count()
    assert estimate["calls"] == sum(run.calls for run in runs)
    assert estimate["cached_calls"] == sweep.cache_hits > 0
    assert within(estimate["tokens"], sweep.tokens_in + sweep.tokens_out)
    assert len(dry_run(api, experiment, **body)["points"]) == 6  # rung 0: every configuration


def test_a_prompt_search_dry_run_adds_the_proposers_calls_and_contains_what_the_sweep_spends(
        api, scored, endpoint, enqueued):
    experiment = scored(space=[], stages=[{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                                           "system_prompt": "Answer.", "prompt_template": "{{ input }}"}])
    body = {"type": "prompt_search", "options": {"proposer": {"endpoint": str(endpoint.pk), "model": "proposer-fake",
                                                              "max_tokens": 400},
                                                 "k": 2, "rounds": 2, "patience": 1}}

    estimate = dry_run(api, experiment, **body)["estimate"]
    sweep = swept(api, experiment, **body)

    assert estimate["runs_range"] == {"low": 3, "high": 5} and estimate["calls_range"] == {"low": 15, "high": 25}
    planner = estimate["planner"]
    assert planner["calls"] == {"low": 1, "high": 2}
    assert 0 < planner["tokens"]["low"] < planner["tokens"]["expected"] <= planner["tokens"]["high"]
    assert planner["tokens"]["high"] < estimate["tokens"]["high"]  # included in the totals
    assert Run.objects.filter(sweep=sweep).count() <= estimate["runs"]
    assert within(estimate["tokens"], sweep.tokens_in + sweep.tokens_out)


def test_an_agent_dry_run_bounds_its_configurations_by_its_steps_and_prices_its_own_calls(
        api, scored, endpoint, enqueued):
    experiment = scored(space=FIRST)
    options = {"endpoint": str(endpoint.pk), "model": "fake-chat", "max_steps": 4, "batch_max": 2}

    body = dry_run(api, experiment, type="agent", n=10, options=options)

    estimate = body["estimate"]
    assert estimate["runs_range"] == {"low": 2, "high": 6} and body["runs"] == 6
    assert estimate["planner"]["calls"] == {"low": 2, "high": 4}
    assert estimate["planner"]["tokens"]["expected"] > 0 and body["points"] == []


def test_an_agent_dry_run_refuses_another_users_endpoint(api, scored, other_user, enqueued):
    foreign = Endpoint.objects.create(owner=other_user, label="theirs", base_url="http://127.0.0.1:9/v1")
    experiment = scored(space=FIRST)

    response = post(api, experiment, dry_run=True, type="agent", n=4,
                    options={"endpoint": str(foreign.pk), "model": "m"})

    assert response.status_code == 400 and "options.endpoint" in response.json()


def test_refuse_over_budget_refuses_a_tpe_sweep_saying_by_how_much(api, scored, enqueued):
    experiment = scored(space=FIRST)
    need = dry_run(api, experiment, type="tpe", n=6)["estimate"]["tokens"]["expected"]

    response = post(api, experiment, type="tpe", n=6, budget_tokens=need // 2, over_budget="refuse")

    assert response.status_code == 400
    (message,) = response.json()["budget_tokens"]
    assert f"needs ≈ {need:,} tokens" in message and f"{need - need // 2:,} short" in message
    assert not Sweep.objects.exists()
    assert post(api, experiment, type="tpe", n=6, budget_tokens=need // 2).status_code == 202  # pause: it starts


def test_refuse_over_budget_refuses_a_halving_sweep_though_it_plans_no_runs_up_front(api, scored, enqueued):
    experiment = scored(space=FIRST)

    response = post(api, experiment, type="halving", budget_tokens=10, over_budget="refuse")

    assert response.status_code == 400 and "short" in response.json()["budget_tokens"][0]

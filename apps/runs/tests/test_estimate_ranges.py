"""The dry run's tokens and cost as ranges, calibrated from what the endpoint returned before, and budgets."""

import pytest

from apps.core.models import SystemSettings
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

FIRST = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
         {"path": "stages.0.params.temperature", "values": [0.1, 0.3]}]
SECOND = [{"path": "stages.0.model", "values": ["fake-chat", "fake-chat-large"]},
          {"path": "stages.0.params.temperature", "values": [0.7, 0.9, 1.1]}]


def post(api, experiment, **body):
    return api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")


def dry_run(api, experiment, **body) -> dict:
    response = post(api, experiment, dry_run=True, **body)
    assert response.status_code == 200, response.content
    return response.json()


def swept(api, experiment, **body) -> Sweep:
    response = post(api, experiment, **body)
    assert response.status_code == 202, response.content
    sweep_drive(response.json()["sweep"]["id"])
    sweep = Sweep.objects.get(pk=response.json()["sweep"]["id"])
    assert sweep.status == Sweep.Status.COMPLETED
    return sweep


def within(bounds: dict, actual: int) -> bool:
    return bounds["low"] <= actual <= bounds["high"]


def test_after_one_sweep_the_estimate_of_a_second_uncached_one_is_within_a_quarter_of_its_real_tokens(
        api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    swept(api, experiment)

    estimate = dry_run(api, experiment, parameter_space=SECOND)["estimate"]
    sweep = swept(api, experiment, parameter_space=SECOND)

    assert estimate["cached_calls"] == 0 and sweep.cache_hits == 0
    assert {entry["source"] for entry in estimate["calibration"]} == {"history"}
    actual = sweep.tokens_in + sweep.tokens_out
    assert abs(estimate["tokens"]["expected"] - actual) <= 0.25 * actual
    assert abs(estimate["tokens_in"] - sweep.tokens_in) <= 0.25 * sweep.tokens_in
    assert abs(estimate["tokens_out"] - sweep.tokens_out) <= 0.25 * sweep.tokens_out
    assert within(estimate["tokens"], actual)
    assert within(estimate["tokens_in_range"], sweep.tokens_in)
    assert within(estimate["tokens_out_range"], sweep.tokens_out)
    cost = estimate["cost_usd_range"]
    assert cost["low"] <= float(sweep.cost_usd) <= cost["high"]


def test_without_history_the_heuristic_range_still_contains_the_real_tokens(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)

    estimate = dry_run(api, experiment)["estimate"]
    sweep = swept(api, experiment)

    assert {entry["source"] for entry in estimate["calibration"]} == {"heuristic"}
    assert within(estimate["tokens_in_range"], sweep.tokens_in)
    assert within(estimate["tokens_out_range"], sweep.tokens_out)
    assert within(estimate["tokens"], sweep.tokens_in + sweep.tokens_out)


def test_the_first_stages_max_tokens_bounds_its_output_from_above(api, make_experiment, endpoint, enqueued):
    one_stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                  "prompt_template": "Answer: {{ input }}", "params": {"max_tokens": 5}}]
    experiment = make_experiment(stages=one_stage, space=[], n_items=4)

    estimate = dry_run(api, experiment)["estimate"]

    assert estimate["tokens_out_range"]["high"] == 4 * 5
    assert estimate["tokens_out"] <= 4 * 5


def test_cached_calls_count_zero_tokens_and_zero_cost(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    swept(api, experiment)

    again = dry_run(api, experiment)["estimate"]
    wider = dry_run(api, experiment, parameter_space=[*FIRST[:1], {**FIRST[1], "values": [0.1, 0.3, 0.7]}])

    assert again["cached_calls"] == again["calls"] == 4 * 5 * 2
    assert again["tokens"] == {"low": 0, "expected": 0, "high": 0} and again["cost_usd_range"]["high"] == 0
    # Two of six configurations are new: only their calls are paid, at the per-call rate of the others.
    paid = wider["estimate"]
    assert paid["uncached_calls"] == 2 * 5 * 2 and paid["cached_calls"] == 4 * 5 * 2
    assert 0 < paid["tokens"]["expected"] < dry_run(api, experiment, parameter_space=SECOND)["estimate"]["tokens"][
        "expected"]


def test_a_sweep_refused_for_its_token_budget_says_how_many_tokens_it_is_short(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    estimate = dry_run(api, experiment)["estimate"]
    need, most = estimate["tokens"]["expected"], estimate["tokens"]["high"]
    budget = need - 500

    response = post(api, experiment, budget_tokens=budget, over_budget="refuse")

    assert response.status_code == 400
    assert response.json()["budget_tokens"] == [
        f"This sweep needs ≈ {need:,} tokens (up to {most:,}); budget {budget:,}: 500 short."]
    assert not Sweep.objects.exists() and not ResponseCache.objects.exists()
    shown = dry_run(api, experiment, budget_tokens=budget)["budget"]
    assert (shown["fits"], shown["short_tokens"], shown["tokens"]) == (False, 500, budget)
    assert shown["message"] == response.json()["budget_tokens"][0]


def test_a_sweep_refused_for_its_cost_budget_says_how_many_dollars_it_is_short(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    cost = dry_run(api, experiment)["estimate"]["cost_usd"]

    response = post(api, experiment, budget_usd="0.0001", over_budget="refuse")

    assert response.status_code == 400
    message = response.json()["budget_usd"][0]
    assert f"costs ≈ ${cost:,.4f}" in message and f"${cost - 0.0001:,.4f} short" in message
    assert not Sweep.objects.exists()


def test_a_sweep_within_its_budget_starts_and_one_over_it_starts_by_default_and_pauses_later(
        api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    estimate = dry_run(api, experiment)["estimate"]

    fits = dry_run(api, experiment, budget_tokens=estimate["tokens"]["high"])["budget"]
    assert fits["fits"] and fits["short_tokens"] == 0 and fits["message"] == ""
    assert post(api, experiment, budget_tokens=estimate["tokens"]["high"], over_budget="refuse").status_code == 202
    Sweep.objects.all().delete()
    assert post(api, experiment, budget_tokens=1).status_code == 202


def test_a_budget_inside_the_range_fits_with_a_warning_that_the_sweep_may_pause(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    tokens = dry_run(api, experiment)["estimate"]["tokens"]

    fit = dry_run(api, experiment, budget_tokens=tokens["expected"] + 1)["budget"]

    assert tokens["expected"] < tokens["high"]
    assert fit["fits"] and "may pause" in fit["message"]


def test_the_servers_token_limit_refuses_a_sweep_expected_to_exceed_it(api, make_experiment, enqueued):
    experiment = make_experiment(space=FIRST)
    need = dry_run(api, experiment)["estimate"]["tokens"]["expected"]
    system = SystemSettings.load()
    system.max_tokens_per_sweep = need - 10
    system.save()

    response = post(api, experiment)

    assert response.status_code == 400
    assert f"the server's limit per sweep {need - 10:,}: 10 short" in response.json()["budget_tokens"][0]
    assert not Sweep.objects.exists()


def test_the_dry_run_shows_ranges_calibration_and_the_experiments_budget(api, make_experiment, endpoint, enqueued):
    experiment = make_experiment(space=FIRST, budget_tokens=10)

    body = dry_run(api, experiment)

    estimate = body["estimate"]
    for name in ("tokens", "tokens_in_range", "tokens_out_range", "cost_usd_range"):
        assert estimate[name]["low"] <= estimate[name]["expected"] <= estimate[name]["high"]
    assert estimate["tokens"]["expected"] == estimate["tokens_in"] + estimate["tokens_out"]
    assert estimate["cost_usd_range"]["expected"] == estimate["cost_usd"] > 0
    assert [(c["endpoint"], c["model"], c["source"]) for c in estimate["calibration"]] == [
        (str(endpoint.pk), "fake-chat", "heuristic"), (str(endpoint.pk), "fake-chat-large", "heuristic")]
    assert body["budget"]["tokens"] == 10 and body["budget"]["fits"] is False
    assert body["budget"]["short_tokens"] == estimate["tokens"]["expected"] - 10

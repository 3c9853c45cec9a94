"""GET /runs/compare: config diff, per-item output diffs with scores, score deltas and totals."""

import pytest

from apps.exports.tests.builders import CANARY_KEY, make_experiment, make_run

URL = "/api/v1/runs/compare"


def compare(client, a, b, **extra):
    params = {"a": str(getattr(a, "pk", a)), "b": str(getattr(b, "pk", b)), **extra}
    return client.get(URL, params)


def test_compare_returns_config_diff_item_diffs_scores_and_totals(api, experiment, runs):
    response = compare(api, runs["baseline"], runs["best"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["config_diff"] == {
        "stages.0.model": {"a": "small-model", "b": "big-model"},
        "stages.0.params.temperature": {"a": 0.5, "b": 0.1},
    }
    assert body["items_total"] == 2
    item = body["items"][0]
    assert (item["item_id"], item["repeat"]) == ("a", 0)
    assert item["a"] == "output of a\nline two at 0.6" and item["b"] == "output of a\nline two at 0.9"
    assert "-line two at 0.6" in item["diff"] and "+line two at 0.9" in item["diff"]
    assert item["scores"]["quality"] == {"a": 0.6, "b": 0.9}
    assert body["scores"]["quality"]["delta"] == pytest.approx(0.3)
    assert body["scores"]["quality"]["ci_b"] == [0.86, 0.94]
    assert body["weighted_score"]["delta"] == pytest.approx(0.3)
    assert body["totals"]["tokens_in"] == {"a": 100, "b": 101}
    assert body["totals"]["mean_latency_ms"]["a"] == 105


def test_compare_shows_prompt_changes_as_a_line_diff(api, experiment, runs):
    changed = make_run(experiment, score=0.5, point={"stages.0.system_prompt": "You extract facts.\nX=2"})
    body = compare(api, runs["baseline"], changed).json()
    entry = body["config_diff"]["stages.0.system_prompt"]
    assert "-X=1" in entry["diff"] and "+X=2" in entry["diff"]


def test_compare_runs_from_two_of_my_experiments(api, owner, endpoint, experiment, runs):
    single = [{"name": "solo", "endpoint": str(endpoint.pk), "model": "m", "prompt_template": "{{ input }}",
               "params": {}}]
    elsewhere = make_run(make_experiment(owner, endpoint, stages=single, name="other"), score=0.3,
                         outputs={"a": "same"})
    body = compare(api, runs["best"], elsewhere).json()
    assert body["runs"]["b"]["experiment_name"] == "other"
    assert "stages.1.name" in body["config_diff"] and body["config_diff"]["stages.1.name"]["b"] is None


def test_compare_pages_items(api, experiment, runs):
    body = compare(api, runs["baseline"], runs["best"], offset=1, limit=1).json()
    assert [i["item_id"] for i in body["items"]] == ["b"] and body["items_total"] == 2


def test_compare_never_returns_an_api_key(api, owner, endpoint):
    stages = [{"name": "s", "endpoint": str(endpoint.pk), "model": "m", "prompt_template": "x", "params": {}}]
    experiment = make_experiment(owner, endpoint, stages=stages)
    a = make_run(experiment, score=0.2, outputs={"a": f"the key is {CANARY_KEY}"})
    b = make_run(experiment, score=0.3, point={"stages.0.prompt_template": f"key {CANARY_KEY}"})
    assert CANARY_KEY not in compare(api, a, b).content.decode()


@pytest.mark.parametrize("params, field", [({"b": "x"}, "a"), ({"a": "nope", "b": "x"}, "a"), ({"a": "x"}, "b")])
def test_compare_rejects_missing_or_malformed_ids_naming_the_field(api, runs, params, field):
    filled = {k: (str(runs["best"].pk) if v == "x" else v) for k, v in params.items()}
    response = api.get(URL, filled)
    assert response.status_code == 400 and field in response.json()


def test_compare_with_another_users_run_is_404(api, other_api, other_user, endpoint, experiment, runs):
    theirs = make_run(make_experiment(other_user, endpoint, name="theirs"), score=0.5)
    assert compare(api, runs["best"], theirs).status_code == 404
    assert compare(other_api, runs["best"], theirs).status_code == 404
    assert compare(api, runs["best"], "00000000-0000-0000-0000-000000000000").status_code == 404


def test_anonymous_compare_is_401_when_guest_access_is_off(anon_api, experiment, runs):
    assert compare(anon_api, runs["baseline"], runs["best"]).status_code == 401


def test_a_guest_may_compare_runs(anon_api, guest_mode, experiment, runs):
    response = compare(anon_api, runs["baseline"], runs["best"])
    assert response.status_code == 200 and CANARY_KEY not in response.content.decode()

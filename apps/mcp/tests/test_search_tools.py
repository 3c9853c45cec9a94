"""Issue 11 over MCP: estimates as ranges against budgets, every planner's options and over_budget, the
leaderboard's paired-test marks, compare's significance, run detail's label reports and a person approving an
agent sweep, each equal to what REST shows for the same user's key."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from apps.mcp.tests.helpers import in_memory, structured, text_of
from apps.mcp.tests.test_tool_access import user_with_key
from apps.runs.models import Run, Sweep

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
LABELS = ["Positive", "Negative", "Neutral"]
# (what the fake model answers, the expected label): right, wrong, right, and no label at all.
ANSWERS = [("Positive", "Positive"), ("Negative", "Positive"), ("Neutral", "Neutral"), ("maybe", "Negative")]
SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.5, 0.9]}]


@sync_to_async
def rest(agent, method: str, path: str, body: dict | None = None, status: int | None = None) -> dict:
    response = getattr(agent.rest, method)(f"/api/v1{path}", body, format="json")
    if status is None:
        assert response.status_code < 300, (path, response.status_code, response.content)
    else:
        assert response.status_code == status, (path, response.status_code, response.content)
    return response.json()


async def call(agent, tool: str, arguments: dict):
    async with in_memory(agent.key) as client:
        return await client.call_tool(tool, arguments)


async def test_estimate_sweep_gives_the_ranges_calibration_and_budget_rest_gives(agent, make_experiment):
    experiment = await sync_to_async(make_experiment)()
    args = {"type": "grid", "budget_tokens": 10}
    estimate = structured(await call(agent, "estimate_sweep", {"experiment_id": str(experiment.pk), **args}))
    by_rest = await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", {**args, "dry_run": True})
    assert estimate["estimate"] == by_rest["estimate"] and estimate["budget"] == by_rest["budget"]
    low, expected, high = (estimate["estimate"]["tokens"][k] for k in ("low", "expected", "high"))
    assert 0 < low <= expected <= high
    assert estimate["estimate"]["calibration"][0]["source"] == "heuristic"
    assert estimate["budget"]["fits"] is False and estimate["budget"]["short_tokens"] == expected - 10
    assert "short" in estimate["budget"]["message"]


async def test_run_sweep_refuses_over_budget_as_rest_does_and_starts_nothing(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    args = {"type": "grid", "budget_tokens": 10, "over_budget": "refuse"}
    result = await call(agent, "run_sweep", {"experiment_id": str(experiment.pk), **args})
    by_rest = await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", args, status=400)
    assert result.is_error and f"budget_tokens: {' '.join(by_rest['budget_tokens'])}" in text_of(result)
    assert "short" in text_of(result)
    assert not await sync_to_async(Sweep.objects.filter(experiment=experiment).exists)() and queued == []


async def test_run_sweep_with_over_budget_pause_starts_the_sweep(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    sweep = structured(await call(agent, "run_sweep", {"experiment_id": str(experiment.pk), "budget_tokens": 10,
                                                       "over_budget": "pause"}))
    assert sweep["status"] == "pending" and queued == [sweep["id"]]


async def test_an_unknown_over_budget_mode_fails_the_schema(agent, make_experiment):
    experiment = await sync_to_async(make_experiment)()
    result = await call(agent, "run_sweep", {"experiment_id": str(experiment.pk), "over_budget": "ignore"})
    assert result.is_error and "over_budget" in text_of(result)


@pytest.mark.parametrize(("kind", "options", "field"), [
    ("halving", {"eta": 1}, "options.eta"),
    ("tpe", {"n_startup_trials": -1}, "options.n_startup_trials"),
    ("tpe", {"bogus": 1}, "options.bogus"),
    ("prompt_search", {"k": 0, "proposer": {"endpoint": "x", "model": "m"}}, "options."),
    ("agent", {"model": "m"}, "options.endpoint"),
])
async def test_run_sweep_passes_each_planners_options_to_the_check_rest_uses(agent, make_experiment, queued, kind,
                                                                             options, field):
    experiment = await sync_to_async(make_experiment)()
    args = {"type": kind, "n": 3, "options": options}
    result = await call(agent, "run_sweep", {"experiment_id": str(experiment.pk), **args})
    by_rest = await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", args, status=400)
    keys = [key for key in by_rest if key.startswith(field)]
    assert keys, by_rest
    assert result.is_error and f"{keys[0]}: {' '.join(by_rest[keys[0]])}" in text_of(result)
    assert queued == []


async def test_run_sweep_starts_a_tpe_sweep_with_its_options(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    sweep = structured(await call(agent, "run_sweep", {"experiment_id": str(experiment.pk), "type": "tpe", "n": 3,
                                                       "options": {"n_startup_trials": 2}}))
    stored = await sync_to_async(Sweep.objects.get)(pk=sweep["id"])
    assert sweep["kind"] == "tpe" and stored.request["options"] == {"n_startup_trials": 2}


async def finished_grid(agent, make_experiment, **extra) -> tuple[str, list[str]]:
    experiment = await sync_to_async(make_experiment)(**extra)
    await rest(agent, "post", f"/experiments/{experiment.pk}/sweep", {"type": "grid"})
    runs = (await rest(agent, "get", f"/experiments/{experiment.pk}/runs"))["results"]
    assert {r["status"] for r in runs} == {"completed"}
    return str(experiment.pk), [r["id"] for r in runs]


async def test_the_leaderboard_shows_items_scored_partial_and_ties_with_best_as_rest_does(agent, make_experiment,
                                                                                         driven):
    experiment_id, run_ids = await finished_grid(agent, make_experiment)
    # One run becomes a halving rung's: scored on one item, so partial and ranked last.
    await sync_to_async(Run.objects.filter(pk=run_ids[0]).update)(sample_ids=["i0"], items_scored=1)
    board = structured(await call(agent, "get_leaderboard", {"experiment_id": experiment_id}))
    by_rest = await rest(agent, "get", f"/experiments/{experiment_id}/leaderboard")
    fields = ("run_id", "rank", "items_scored", "partial", "overlaps_leader", "tied_with_best", "best_p_value")
    assert [{f: row[f] for f in fields} for row in board["results"]] == [
        {f: row[f] for f in fields} for row in by_rest["results"]]
    last = board["results"][-1]
    assert (last["run_id"], last["partial"], last["items_scored"]) == (run_ids[0], True, 1)
    assert [row["partial"] for row in board["results"][:-1]] == [False, False]


async def test_compare_runs_carries_the_paired_test_rest_compare_shows(agent, make_experiment, driven):
    _, (a, b, _) = await finished_grid(agent, make_experiment)
    result = structured(await call(agent, "compare_runs", {"run_a_id": a, "run_b_id": b}))
    by_rest = await rest(agent, "get", f"/runs/compare?a={a}&b={b}")
    assert result["significance"] == by_rest["significance"] == result["comparison"]["significance"]
    assert result["significance"]["n"] == 2 and result["significance"]["alpha"] == 0.05


async def test_get_run_detail_carries_the_label_report_rest_run_detail_shows(agent, make_experiment, driven):
    items = [{"id": f"i{n}", "input": f"doc {n}\nREPLY: {answer}", "expected": expected}
             for n, (answer, expected) in enumerate(ANSWERS)]
    scoring = {"scorers": [{"type": "classification", "name": "label", "options": {"labels": LABELS}}]}
    _, (run_id, *_) = await finished_grid(agent, make_experiment, sample_data=items, scoring_config=scoring)
    detail = structured(await call(agent, "get_run_detail", {"run_id": run_id}))
    by_rest = await rest(agent, "get", f"/runs/{run_id}")
    assert detail["label_reports"] == by_rest["label_reports"]
    assert detail["items_scored"] == by_rest["items_scored"] == 4
    (report,) = detail["label_reports"]
    assert (report["scorer"], report["n"], report["correct"], report["accuracy"]) == ("label", 4, 2, 0.5)
    assert report["columns"] == [*LABELS, "(other)"]
    assert {row["expected"]: row["counts"] for row in report["matrix"]} == {
        "Positive": [1, 1, 0, 0], "Negative": [0, 0, 0, 1], "Neutral": [0, 0, 1, 0]}
    positive = next(s for s in report["labels"] if s["label"] == "Positive")
    assert (positive["precision"], positive["recall"], positive["support"]) == (1.0, 0.5, 2)


async def test_run_detail_without_a_classification_scorer_has_no_label_reports(agent, make_experiment, driven):
    _, (run_id, *_) = await finished_grid(agent, make_experiment)
    assert structured(await call(agent, "get_run_detail", {"run_id": run_id}))["label_reports"] == []
    assert (await rest(agent, "get", f"/runs/{run_id}"))["label_reports"] == []


def call_line(tool: str, reasoning: str, **args) -> str:
    return json.dumps({"tool": tool, "args": args, "reasoning": reasoning})


ASKS_FIRST = "Find the best temperature.\n" + "\n".join(f"REPLY {n}: {reply}" for n, reply in enumerate([
    call_line("request_human_review", "ask first", reason="May I run 0.5?"),
    call_line("run_batch", "approved", configs=[{"stages.0.params.temperature": 0.5}]),
    call_line("finish", "done", summary="0.5 it is."),
], start=1))


async def test_approve_sweep_lets_a_paused_agent_continue_with_the_note(agent, make_experiment, endpoint, driven):
    experiment = await sync_to_async(make_experiment)(space=SPACE)
    options = {"endpoint": str(endpoint.pk), "model": "agent-script", "goal": ASKS_FIRST}
    started = await rest(agent, "post", f"/experiments/{experiment.pk}/sweep",
                         {"type": "agent", "n": 3, "options": options})
    sweep_id = started["sweep"]["id"]
    assert (await rest(agent, "get", f"/sweeps/{sweep_id}"))["status"] == "paused"
    approved = structured(await call(agent, "approve_sweep", {"sweep_id": sweep_id, "note": "go ahead"}))
    assert approved["id"] == sweep_id and approved["status"] == "running"
    sweep = await sync_to_async(Sweep.objects.get)(pk=sweep_id)
    assert sweep.status == Sweep.Status.COMPLETED
    assert sweep.request["agent"]["steps"][0]["result"]["approval"]["note"] == "go ahead"
    points = await sync_to_async(list)(Run.objects.filter(sweep=sweep).values_list("point", flat=True))
    assert points == [{"stages.0.params.temperature": 0.5}]
    again = await call(agent, "approve_sweep", {"sweep_id": sweep_id})
    assert again.is_error and "not waiting for a person" in text_of(again)
    await rest(agent, "post", f"/sweeps/{sweep_id}/approve-continue", {}, status=409)


async def test_approve_sweep_of_another_users_sweep_is_not_found(agent, make_experiment, queued):
    experiment = await sync_to_async(make_experiment)()
    sweep = structured(await call(agent, "run_sweep", {"experiment_id": str(experiment.pk)}))
    _, _, raw = await user_with_key("stranger")
    async with in_memory(raw) as client:
        result = await client.call_tool("approve_sweep", {"sweep_id": sweep["id"]})
    assert result.is_error and text_of(result).endswith(": not found")

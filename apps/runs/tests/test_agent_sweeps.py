"""Agent sweeps end to end: a scripted agent (the fake server's numbered replies) drives the real driver."""

import json

import pytest

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep

pytestmark = pytest.mark.django_db(transaction=True)

SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.5, 0.9]}]
SCORING = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 400}}]}


def call(tool: str, reasoning: str, **args) -> str:
    return json.dumps({"tool": tool, "args": args, "reasoning": reasoning})


def script(*replies: str) -> str:
    lines = [f"REPLY {n}: {reply}" for n, reply in enumerate(replies, start=1)]
    return "Find the best temperature.\n" + "\n".join(lines)


def t(value: float) -> dict:
    return {"stages.0.params.temperature": value}


HAPPY = script(
    call("read_leaderboard", "see what exists", top=5),
    call("run_batch", "try the extremes", configs=[t(0.1), t(0.9)]),
    call("request_human_review", "a person should agree", reason="Two runs done: shall I try 0.5?"),
    call("run_batch", "approved: the middle", configs=[t(0.5)]),
    call("finish", "done", summary="Temperature 0.5 is the one to use."),
)


@pytest.fixture
def agent_experiment(make_experiment, endpoint):
    stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat", "prompt_template": "{{ input }}",
              "params": {"temperature": 0.5}}]
    return make_experiment(stages=stage, n_items=2, space=SPACE, scoring_config=SCORING)


def start(api, experiment, endpoint, goal: str, **extra):
    options = {"endpoint": str(endpoint.pk), "model": "agent-script", "goal": goal, **extra.pop("options", {})}
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep",
                        {"type": "agent", "n": 5, "options": options, **extra}, format="json")
    assert response.status_code == 202, response.content
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def steps(sweep) -> list[dict]:
    return [e.payload for e in Event.objects.filter(sweep=sweep, kind="agent.step").order_by("created_at", "pk")]


def test_an_agent_reads_runs_asks_a_person_and_finishes_after_approval(api, agent_experiment, endpoint, enqueued):
    sweep = start(api, agent_experiment, endpoint, HAPPY)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED
    assert Run.objects.filter(sweep=sweep, status="completed").count() == 2
    assert [s["tool"] for s in steps(sweep)] == ["read_leaderboard", "run_batch", "request_human_review"]
    needed = Event.objects.get(sweep=sweep, kind="human_needed")
    assert needed.payload["reason"] == "Two runs done: shall I try 0.5?"

    response = api.post(f"/api/v1/sweeps/{sweep.pk}/approve-continue", {"note": "yes, try it"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "running" and enqueued[-1] == str(sweep.pk)
    sweep_drive(str(sweep.pk))

    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    assert sorted(r.point["stages.0.params.temperature"] for r in Run.objects.filter(sweep=sweep)) == [0.1, 0.5, 0.9]
    taken = steps(sweep)
    assert [s["tool"] for s in taken] == ["read_leaderboard", "run_batch", "request_human_review", "run_batch",
                                          "finish"]
    assert taken[1]["arguments"] == {"configs": [t(0.1), t(0.9)]}
    assert all(s["tokens_in"] > 0 and s["tokens_out"] > 0 and s["duration_ms"] >= 0 for s in taken)
    finished = Event.objects.get(sweep=sweep, kind="agent.finished")
    assert finished.payload["summary"] == "Temperature 0.5 is the one to use."
    # The agent saw the person's note, and its own tokens count in the sweep's totals.
    stored = sweep.request["agent"]["steps"][2]["result"]
    assert stored["approval"]["note"] == "yes, try it"
    runs_tokens = sum(r.tokens_in + r.tokens_out for r in Run.objects.filter(sweep=sweep))
    agent_tokens = sum(s["tokens_in"] + s["tokens_out"] for s in taken)
    assert sweep.tokens_in + sweep.tokens_out == runs_tokens + agent_tokens


def test_the_agent_stops_at_the_sweeps_token_budget_its_own_calls_included(api, agent_experiment, endpoint, enqueued):
    sweep = start(api, agent_experiment, endpoint, HAPPY, budget_tokens=1)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.PAUSED and "token budget" in sweep.pause_reason
    assert [s["tool"] for s in steps(sweep)] == ["read_leaderboard"]  # no LLM call after the budget is reached
    assert Event.objects.filter(sweep=sweep, kind="budget.exhausted").exists()
    assert not Run.objects.filter(sweep=sweep).exists()


def test_a_stopped_agent_sweep_takes_no_more_steps_and_cannot_be_approved(api, agent_experiment, endpoint, enqueued):
    sweep = start(api, agent_experiment, endpoint, script(
        call("request_human_review", "ask first", reason="May I start?"),
        call("run_batch", "go", configs=[t(0.1)])))
    sweep_drive(str(sweep.pk))
    assert api.post(f"/api/v1/experiments/{sweep.experiment_id}/stop").status_code == 200
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.STOPPED
    assert [s["tool"] for s in steps(sweep)] == ["request_human_review"]
    assert api.post(f"/api/v1/sweeps/{sweep.pk}/approve-continue", {}, format="json").status_code == 409


def test_a_batch_outside_the_space_is_refused_to_the_agent_which_can_correct_it(api, agent_experiment, endpoint,
                                                                                  enqueued):
    sweep = start(api, agent_experiment, endpoint, script(
        call("run_batch", "a typo", configs=[t(0.3)]),
        call("run_batch", "fixed", configs=[t(0.5)]),
        call("finish", "done", summary="0.5 it is.")))
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    taken = steps(sweep)
    assert "0.3 is not one of this axis's values" in taken[0]["error"]
    assert [r.point for r in Run.objects.filter(sweep=sweep)] == [t(0.5)]
    assert sweep.status == Sweep.Status.COMPLETED


def test_an_agent_sweep_needs_an_endpoint_of_the_users_own(api, agent_experiment, endpoint, other_user, enqueued):
    from apps.endpoints.models import Endpoint

    theirs = Endpoint.objects.create(owner=other_user, label="theirs", base_url=endpoint.base_url)
    for options, field in [({"model": "m"}, "options.endpoint"), ({"endpoint": str(endpoint.pk)}, "options.model"),
                           ({"endpoint": str(theirs.pk), "model": "m"}, "options.endpoint"),
                           ({"endpoint": str(endpoint.pk), "model": "m", "max_steps": 0}, "options.max_steps"),
                           ({"endpoint": str(endpoint.pk), "model": "m", "eta": 3}, "options.eta")]:
        response = api.post(f"/api/v1/experiments/{agent_experiment.pk}/sweep",
                            {"type": "agent", "options": options}, format="json")
        assert response.status_code == 400 and field in response.json(), (options, response.content)
    assert not Sweep.objects.exists()

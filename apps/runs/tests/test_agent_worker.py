"""Agent sweeps through a real worker (pause, resume, SIGKILL, recovery), the spend threshold and max_steps."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.activity.models import Event
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Run, StageResult, Sweep
from apps.runs.tests.worker import status_of, throttle

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = 2
SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.5, 0.9]}]
SCORING = {"scorers": [{"type": "length", "options": {"unit": "chars", "min": 1, "max": 400}}]}


def call(tool: str, reasoning: str, **args) -> str:
    return json.dumps({"tool": tool, "args": args, "reasoning": reasoning})


def script(*replies: str) -> str:
    return "Find the best temperature.\n" + "\n".join(f"REPLY {n}: {r}" for n, r in enumerate(replies, start=1))


def t(value: float) -> dict:
    return {"stages.0.params.temperature": value}


THREE_STEPS = script(
    call("read_leaderboard", "see what exists", top=5),
    call("run_batch", "try the extremes", configs=[t(0.1), t(0.9)]),
    call("run_batch", "and the middle", configs=[t(0.5)]),
    call("finish", "done", summary="All three temperatures ran."),
)


@pytest.fixture
def agent_experiment(make_experiment, endpoint):
    def make():
        stage = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "fake-chat",
                  "prompt_template": "{{ input }}", "params": {"temperature": 0.5}}]
        return make_experiment(stages=stage, n_items=ITEMS, space=SPACE, scoring_config=SCORING)
    return make


def start(api, experiment, endpoint, goal: str, **options) -> Sweep:
    body = {"type": "agent", "n": 5, "options": {"endpoint": str(endpoint.pk), "model": "agent-script", "goal": goal,
                                                 **options}}
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
    assert response.status_code == 202, response.content
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def steps(sweep) -> list[dict]:
    return list(Event.objects.filter(sweep=sweep, kind="agent.step").order_by("created_at", "pk")
                .values_list("payload", flat=True))


def timeline(sweep) -> list[tuple]:
    """The agent's steps as a user reads them: number, tool, arguments, error."""
    return [(s["step"], s["tool"], s["arguments"], s["error"]) for s in steps(sweep)]


def temperatures(sweep) -> list[float]:
    return sorted(r.point["stages.0.params.temperature"] for r in Run.objects.filter(sweep=sweep))


def agent_calls(fake_llm) -> int:
    return sum(1 for body in fake_llm.stats.bodies if isinstance(body, dict) and body.get("model") == "agent-script")


def test_an_agent_sweep_paused_resumed_and_killed_takes_each_step_once_like_a_clean_one(
    api, agent_experiment, endpoint, fake_llm, worker
):
    reference = start(api, agent_experiment(), endpoint, THREE_STEPS)
    sweep_drive(str(reference.pk))
    assert status_of(reference) == Sweep.Status.COMPLETED
    expected = timeline(reference)
    assert [s[1] for s in expected] == ["read_leaderboard", "run_batch", "run_batch", "finish"]
    ResponseCache.objects.all().delete()  # the next sweep pays for every call, the agent's included
    fake_llm.reset_stats()

    throttle(endpoint, fake_llm, slots=1, latency_ms=150)
    worker.start()
    experiment = agent_experiment()
    sweep = start(api, experiment, endpoint, THREE_STEPS)

    worker.wait_for(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the first batch to start")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code == 200
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the paused driver to drain")
    assert status_of(sweep) == Sweep.Status.PAUSED and len(steps(sweep)) == 2
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200

    # Killed after the agent's third step planned its batch, while that run runs.
    worker.wait_for(lambda: len(steps(sweep)) == 3 and Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING)
                    .exists(), what="the second batch to start")
    worker.kill()
    assert status_of(sweep) == Sweep.Status.RUNNING
    Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))  # instead of waiting out the dead lease
    worker.start()
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=60, what="the sweep to complete")

    assert timeline(sweep) == expected
    sweep.refresh_from_db()
    assert [s["n"] for s in sweep.request["agent"]["steps"]] == [1, 2, 3, 4]
    assert agent_calls(fake_llm) == 4 and sweep.request["planner_usage"]["calls"] == 4
    assert temperatures(sweep) == [0.1, 0.5, 0.9]
    runs = Run.objects.filter(sweep=sweep)
    assert set(runs.values_list("status", flat=True)) == {Run.Status.COMPLETED}
    per_call = StageResult.objects.filter(run__sweep=sweep).values("run", "item_id").annotate(n=Count("id"))
    assert per_call.count() == 3 * ITEMS and {c["n"] for c in per_call} == {1}
    assert Event.objects.filter(sweep=sweep, kind="agent.finished").count() == 1
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert kinds.count("experiment.interrupted") == 1 and kinds.count("experiment.paused") == 1


def test_a_batch_past_the_spend_threshold_waits_for_a_person_and_runs_once_approved(
    api, agent_experiment, endpoint, enqueued
):
    goal = script(
        call("run_batch", "one first", configs=[t(0.1)]),
        call("run_batch", "the other two", configs=[t(0.5), t(0.9)]),
        call("run_batch", "approved: the other two", configs=[t(0.5), t(0.9)]),
        call("finish", "done", summary="Three temperatures ran."),
    )
    sweep = start(api, agent_experiment(), endpoint, goal, approve_above_tokens=1)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    # The first batch had no runs to estimate from; the second would spend past the threshold.
    assert sweep.status == Sweep.Status.PAUSED and "spend past 1 tokens" in sweep.pause_reason
    assert temperatures(sweep) == [0.1]
    assert [s["tool"] for s in steps(sweep)] == ["run_batch", "run_batch"]
    assert steps(sweep)[1]["result"]["paused"] is True
    needed = Event.objects.get(sweep=sweep, kind="human_needed")
    assert "spend past" in needed.payload["reason"] and needed.payload["approve"].endswith("/approve-continue")

    response = api.post(f"/api/v1/sweeps/{sweep.pk}/approve-continue", {"note": "go ahead"}, format="json")
    assert response.status_code == 200, response.content
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    assert temperatures(sweep) == [0.1, 0.5, 0.9]
    assert [s["tool"] for s in steps(sweep)] == ["run_batch", "run_batch", "run_batch", "finish"]
    agent = sweep.request["agent"]
    assert agent["spend_approved"] is True and agent["steps"][1]["result"]["approval"]["note"] == "go ahead"
    assert Event.objects.filter(sweep=sweep, kind="human_needed").count() == 1  # approved once, not asked again


def test_an_agent_that_never_finishes_is_ended_once_its_max_steps_are_used(api, agent_experiment, endpoint,
                                                                           enqueued):
    goal = script(*[call("read_leaderboard", f"look again ({n})", top=3) for n in range(1, 6)])
    sweep = start(api, agent_experiment(), endpoint, goal, max_steps=3)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED
    tools = [s["tool"] for s in steps(sweep)]
    assert tools[:3] == ["read_leaderboard"] * 3 and tools[3:] == ["finish"]
    finished = Event.objects.get(sweep=sweep, kind="agent.finished")
    assert "3 steps" in finished.payload["summary"] and finished.payload["steps"] == 4
    assert not Run.objects.filter(sweep=sweep).exists()


def test_a_driver_that_dies_after_the_agents_llm_answered_counts_that_call_once(
    api, agent_experiment, endpoint, enqueued, fake_llm, monkeypatch
):
    from apps.runs.services import agent_tools

    goal = script(call("read_leaderboard", "look", top=3), call("finish", "done", summary="Nothing to run."))
    clean = start(api, agent_experiment(), endpoint, goal)
    sweep_drive(str(clean.pk))
    clean.refresh_from_db()
    ResponseCache.objects.all().delete()
    fake_llm.reset_stats()

    sweep = start(api, agent_experiment(), endpoint, goal)
    recorded = agent_tools.step_record

    def crash(**kwargs):
        raise SystemExit("the worker was killed")  # the step is lost with the process; the reply is cached

    monkeypatch.setattr(agent_tools, "step_record", crash)
    with pytest.raises(SystemExit):
        sweep_drive(str(sweep.pk))
    assert agent_calls(fake_llm) == 1 and not steps(sweep)

    monkeypatch.setattr(agent_tools, "step_record", recorded)
    sweep_drive(str(sweep.pk))
    sweep.refresh_from_db()
    assert sweep.status == Sweep.Status.COMPLETED and [s["tool"] for s in steps(sweep)] == ["read_leaderboard",
                                                                                            "finish"]
    assert agent_calls(fake_llm) == 2  # the lost step's reply came from the cache
    # ...and its tokens, paid for once, count once: the sweep's totals equal the clean run's.
    assert sweep.request["planner_usage"] == clean.request["planner_usage"]
    assert (sweep.tokens_in, sweep.tokens_out) == (clean.tokens_in, clean.tokens_out) and sweep.tokens_in > 0

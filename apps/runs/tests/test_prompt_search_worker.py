"""prompt_search through a real worker: paused, resumed and SIGKILLed, it proposes exactly what a clean run does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.activity.models import Event
from apps.fakellm.demo import RUBRIC_KEYWORDS
from apps.runs.driver import sweep_drive
from apps.runs.models import ResponseCache, Run, StageResult, Sweep
from apps.runs.tests.worker import start, status_of, throttle

ITEMS = 4
ROUNDS = 3


@pytest.fixture
def search_experiment(make_experiment, endpoint):
    def make():
        stages = [{"name": "answer", "endpoint": str(endpoint.pk), "model": "demo-pro",
                   "system_prompt": "You are a support agent.", "prompt_template": "Customer: {{ input }}",
                   "params": {"temperature": 0.0}}]
        scoring = {"scorers": [{"type": "keyword", "options": {"keywords": RUBRIC_KEYWORDS, "mode": "all"}}]}
        return make_experiment(stages=stages, n_items=ITEMS, space=[], scoring_config=scoring)
    return make


def search(endpoint) -> dict:
    return {"type": "prompt_search", "options": {
        "proposer": {"endpoint": str(endpoint.pk), "model": "proposer-fake"}, "k": 2, "rounds": ROUNDS,
        "patience": ROUNDS}}


def payloads(sweep, kind: str) -> list[dict]:
    return list(Event.objects.filter(sweep=sweep, kind=kind).order_by("created_at", "pk").values_list("payload",
                                                                                                      flat=True))


def outcome(sweep) -> dict:
    """What a user sees of a finished search: the proposals per round, the runs in order, the rounds' verdicts."""
    proposals = payloads(sweep, "prompt_search.proposals")
    return {
        "proposals": [(p["round"], p["variants"], p["planned_runs"]) for p in proposals],
        "points": list(Run.objects.filter(sweep=sweep).order_by("position").values_list("point", flat=True)),
        "rounds": [(r["round"], r["best_score"], r["finished"]) for r in payloads(sweep, "prompt_search.round")],
    }


def proposer_calls(fake_llm) -> int:
    return sum(1 for body in fake_llm.stats.bodies if isinstance(body, dict) and body.get("model") == "proposer-fake")


def in_round(sweep, number: int) -> bool:
    """The proposer answered for `number` (its proposals are stored) and one of that round's runs is running."""
    return (len(payloads(sweep, "prompt_search.proposals")) >= number
            and Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists())


@pytest.mark.django_db(transaction=True)
def test_a_prompt_search_paused_resumed_and_killed_proposes_and_runs_exactly_what_a_clean_one_does(
    api, search_experiment, endpoint, fake_llm, worker
):
    clean = search_experiment()
    reference = start(api, clean, **search(endpoint))
    sweep_drive(str(reference.pk))
    assert status_of(reference) == Sweep.Status.COMPLETED
    expected = outcome(reference)
    assert [p[0] for p in expected["proposals"]] == [1, 2, 3] and len(expected["points"]) > 1 + ROUNDS
    ResponseCache.objects.all().delete()  # the next sweep pays for every call, the proposer's included
    fake_llm.reset_stats()

    throttle(endpoint, fake_llm, slots=1, latency_ms=40)
    worker.start()
    experiment = search_experiment()
    sweep = start(api, experiment, **search(endpoint))

    worker.wait_for(lambda: in_round(sweep, 1), what="round 1's runs to start")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code == 200
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the paused driver to drain")
    assert status_of(sweep) == Sweep.Status.PAUSED
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200

    # Killed after the proposer answered for round 2, while that round runs: its proposals are not asked again.
    worker.wait_for(lambda: in_round(sweep, 2), what="round 2's runs to start")
    worker.kill()
    assert status_of(sweep) == Sweep.Status.RUNNING
    Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))  # instead of waiting out the dead lease
    worker.start()
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=60, what="the sweep to complete")

    assert outcome(sweep) == expected
    assert proposer_calls(fake_llm) == ROUNDS
    sweep.refresh_from_db()
    usage = sweep.request["planner_usage"]
    assert usage["calls"] == ROUNDS
    runs = Run.objects.filter(sweep=sweep)
    assert set(runs.values_list("status", flat=True)) <= {Run.Status.COMPLETED, Run.Status.CACHED}
    per_call = StageResult.objects.filter(run__sweep=sweep).values("run", "item_id").annotate(n=Count("id"))
    assert per_call.count() == runs.count() * ITEMS and {c["n"] for c in per_call} == {1}
    assert sweep.tokens_in == sum(runs.values_list("tokens_in", flat=True)) + usage["tokens_in"]
    kinds = list(Event.objects.filter(sweep=sweep).values_list("kind", flat=True))
    assert kinds.count("experiment.interrupted") == 1 and kinds.count("experiment.paused") == 1

"""Halving sweeps through the real driver over the demo task (12 configurations × 12 items on demo-* models)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from apps.experiments.services import experiment_create
from apps.instance.demo import CHECKLIST_PROMPT, demo_experiment
from apps.runs.driver import sweep_drive
from apps.runs.models import Run, StageResult, Sweep
from apps.runs.tests.worker import start, status_of, throttle

SEED = 11
GRID_CALLS = 12 * 12
WINNER = {"stages.0.system_prompt": CHECKLIST_PROMPT, "stages.0.params.temperature": 0.2,
          "stages.0.model": "demo-pro"}  # the grid's winner (apps/instance/tests/test_demo_story.py)


@pytest.fixture
def demo(owner, project, endpoint):
    return lambda: experiment_create(user=owner, project=project, data=demo_experiment(endpoint_id=str(endpoint.pk)))


def rungs(sweep) -> list[tuple[int | None, int]]:
    """(items per run, runs) per rung, smallest first; None items: every item."""
    counts = {}
    for sample_ids in Run.objects.filter(sweep=sweep).values_list("sample_ids", flat=True):
        key = None if sample_ids is None else len(sample_ids)
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), key=lambda pair: pair[0] or 10**9)


def survivors(sweep) -> list[dict]:
    return sorted((r.point for r in Run.objects.filter(sweep=sweep, sample_ids__isnull=True)), key=str)


@pytest.mark.django_db(transaction=True)
def test_a_halving_sweep_keeps_the_grids_winner_with_a_third_of_its_calls_and_ranks_it_first(
    api, owner, demo, enqueued, fake_llm
):
    experiment = demo()
    sweep = start(api, experiment, type="halving", seed=SEED)
    assert sweep.runs_total == 0 and sweep.request["options"] == {}
    sweep_drive(str(sweep.pk))

    assert status_of(sweep) == Sweep.Status.COMPLETED
    assert rungs(sweep) == [(2, 12), (4, 4), (None, 2)]
    assert WINNER in survivors(sweep)
    calls = fake_llm.stats["chat"]
    print(f"halving: {calls} calls, the grid makes {GRID_CALLS}")
    assert calls == 12 * 2 + 4 * 2 + 2 * 8 <= 0.4 * GRID_CALLS
    # Nested subsets: a promoted run's earlier items came from the cache.
    promoted = [r for r in Run.objects.filter(sweep=sweep) if r.sample_ids is None or len(r.sample_ids) > 2]
    assert {(r.items_scored, r.cache_hits) for r in promoted} <= {(4, 2), (12, 4)}
    assert sum(r.cache_hits for r in promoted) == 4 * 2 + 2 * 4

    board = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard?limit=50").json()
    first = board["results"][0]
    assert first["point"] == WINNER and first["items_scored"] == 12 and first["partial"] is False
    assert [row["partial"] for row in board["results"]] == [False] * 2 + [True] * 16
    assert {row["items_scored"] for row in board["results"][2:]} == {2, 4}

    browser = Client()
    browser.force_login(owner)
    page = browser.get(f"/experiments/{experiment.pk}/leaderboard/").content.decode()
    assert ">Items</span>" in page and page.count(">partial</span>") == 16


@pytest.mark.django_db(transaction=True)
def test_halving_options_are_validated_naming_the_field_and_a_halving_sweep_cannot_be_redirected(
    api, demo, enqueued
):
    experiment = demo()
    url = f"/api/v1/experiments/{experiment.pk}/sweep"
    response = api.post(url, {"type": "halving", "options": {"eta": 1}}, format="json")
    assert response.status_code == 400 and "options.eta" in response.json()
    response = api.post(url, {"type": "halving", "options": {"rungs": 4}}, format="json")
    assert response.status_code == 400 and "options.rungs" in response.json()

    start(api, experiment, type="halving", options={"eta": 2, "min_items": 3})
    response = api.post(f"/api/v1/experiments/{experiment.pk}/redirect",
                        {"parameter_space": experiment.parameter_space}, format="json")
    assert response.status_code == 409 and "halving" in response.json()["detail"]


def clean_survivors(api, demo) -> list[dict]:
    experiment = demo()
    sweep = start(api, experiment, type="halving", seed=SEED)
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.COMPLETED
    assert api.delete(f"/api/v1/experiments/{experiment.pk}/cache").status_code == 200
    return survivors(sweep)


def assert_ran_once(sweep) -> None:
    runs = Run.objects.filter(sweep=sweep)
    assert set(runs.values_list("status", flat=True)) <= {Run.Status.COMPLETED, Run.Status.CACHED}
    per_call = StageResult.objects.filter(run__sweep=sweep).values("run", "item_id").annotate(n=Count("id"))
    assert {c["n"] for c in per_call} == {1}
    assert all(r.items_scored == (12 if r.sample_ids is None else len(r.sample_ids)) for r in runs)


@pytest.mark.django_db(transaction=True)
def test_a_halving_sweep_paused_resumed_and_killed_ends_with_the_same_survivors_as_a_clean_one(
    api, demo, endpoint, fake_llm, worker
):
    expected = clean_survivors(api, demo)
    throttle(endpoint, fake_llm, slots=2, latency_ms=40)
    worker.start()
    experiment = demo()
    sweep = start(api, experiment, type="halving", seed=SEED)

    worker.wait_for(lambda: Run.objects.filter(sweep=sweep, status=Run.Status.COMPLETED).count() >= 3,
                    what="three rung-0 runs")
    assert api.post(f"/api/v1/experiments/{experiment.pk}/pause").status_code == 200
    worker.wait_for(lambda: not Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).exists(),
                    what="the paused driver to drain")
    assert status_of(sweep) == Sweep.Status.PAUSED
    assert api.post(f"/api/v1/experiments/{experiment.pk}/resume").status_code == 200

    # Killed once the second rung is under way: its runs are planned from stored state by the next driver.
    worker.wait_for(lambda: Run.objects.filter(sweep=sweep).count() > 12 and fake_llm.stats["chat"] >= 12 * 2 + 2,
                    what="the second rung to start")
    worker.kill()
    assert status_of(sweep) == Sweep.Status.RUNNING
    Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))  # instead of waiting out the dead lease
    worker.start()
    worker.wait_for(lambda: status_of(sweep) == Sweep.Status.COMPLETED, timeout_s=60, what="the sweep to complete")

    assert rungs(sweep) == [(2, 12), (4, 4), (None, 2)]
    assert survivors(sweep) == expected and WINNER in expected
    assert_ran_once(sweep)

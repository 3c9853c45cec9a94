"""Leaderboard ranks without a window over every run: the same rank and tie marks as RANK() over the experiment's
ranked runs, on every page and in every order; paired-test marks follow rescoring and ratings."""

import random

import pytest

from apps.runs.leaderboard import leaderboard_rows
from apps.runs.models import Run, Score
from apps.runs.services.scoring import summaries_refresh
from apps.web.tests.board_builders import scored_experiment, scored_run

pytestmark = pytest.mark.django_db

ORDERS = [("weighted_score", True), ("weighted_score", False), ("kw", True), ("kw", False)]


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def expected_ranks(experiment) -> dict[str, tuple[int, bool]]:
    """RANK() by (partial last, weighted score descending, no score last), and whether another run shares the key."""
    runs = list(Run.objects.filter(experiment=experiment).ranked())

    def key(run):
        return (run.sample_ids is not None, run.weighted_score is None, -(run.weighted_score or 0.0))

    keys = [key(run) for run in runs]
    return {str(run.pk): (1 + sum(other < key(run) for other in keys),
                          run.weighted_score is not None and keys.count(key(run)) > 1) for run in runs}


def every_row(experiment, *, sort, descending, limit):
    rows, offset = [], 0
    while True:
        total, page = leaderboard_rows(experiment=experiment, sort=sort, descending=descending,
                                       offset=offset, limit=limit)
        rows += page
        offset += limit
        if offset >= total:
            return total, rows


def many_runs(experiment, count: int, *, seed: int = 3) -> None:
    """Full and partial runs, many sharing a score, a few without one, one rejected."""
    rng = random.Random(seed)
    for n in range(count):
        score = rng.choice([0.2, 0.45, 0.5, 0.5, 0.7, 0.9, None])
        if score is None:
            Run.objects.create(experiment=experiment, config={}, config_hash=f"none{n:060d}",
                               status=Run.Status.FAILED, position=n)
            continue
        run = scored_run(experiment, score, kw=rng.random())
        if rng.random() < 0.25:
            Run.objects.filter(pk=run.pk).update(sample_ids=["i0"], items_scored=1)
    scored_run(experiment, 0.99, approval=Run.Approval.REJECTED)


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
def test_every_page_in_every_order_shows_the_weighted_rank_and_tie_of_each_run(experiment, sort, descending):
    many_runs(experiment, 40)
    expected = expected_ranks(experiment)
    for limit in (1, 3, 7, 50):  # pages that open inside a tie, and one page for all
        total, rows = every_row(experiment, sort=sort, descending=descending, limit=limit)
        assert total == len(expected) == len(rows)
        assert {str(row.run.pk): (row.rank, row.tied) for row in rows} == expected


def test_the_weighted_order_reads_ranks_that_never_decrease_partial_runs_last(experiment):
    many_runs(experiment, 30, seed=11)
    _, rows = every_row(experiment, sort=None, descending=True, limit=4)
    assert [row.rank for row in rows] == sorted(row.rank for row in rows)
    partial = [row.partial for row in rows]
    assert partial == sorted(partial) and any(partial) and not all(partial)


def test_a_page_that_opens_inside_a_tie_gives_the_tie_its_first_position(experiment):
    scored_run(experiment, 0.9)
    for _ in range(4):
        scored_run(experiment, 0.6)
    scored_run(experiment, 0.3)
    _, rows = leaderboard_rows(experiment=experiment, offset=3, limit=2)
    assert [(row.rank, row.tied) for row in rows] == [(2, True), (2, True)]
    _, rows = leaderboard_rows(experiment=experiment, offset=4, limit=5)
    assert [(row.rank, row.tied) for row in rows] == [(2, True), (6, False)]


def rated(experiment, run, values: list[float]) -> None:
    """The run's per-item scores are `values` (both scorers), its summaries rewritten as rescoring does."""
    Score.objects.filter(run=run).delete()
    Score.objects.bulk_create([Score(run=run, scorer_name=name, item_id=f"i{n}", repeat=0, value=value)
                               for name in ("kw", "short") for n, value in enumerate(values)])
    summaries_refresh(run_id=run.pk, specs=list(experiment.spec.scoring))


def test_the_paired_mark_follows_new_scores_of_a_run_and_of_the_leader(experiment):
    leader, runner = scored_run(experiment, 0.8), scored_run(experiment, 0.7)
    rated(experiment, leader, [0.9, 0.8, 0.7])
    rated(experiment, runner, [0.9, 0.8, 0.7])  # the same scores: nothing to tell them apart

    def runner_row():
        _, rows = leaderboard_rows(experiment=experiment)
        return next(row for row in rows if row.run.pk == runner.pk)

    assert (runner_row().tied_with_best, runner_row().best_p_value) == (True, 1.0)
    rated(experiment, runner, [0.85, 0.75, 0.65])  # worse on every item: the one-sided exact p is 1/8
    assert runner_row().best_p_value == 0.125
    rated(experiment, leader, [0.85, 0.75, 0.65])  # the leader's scores change too: equal again
    row = runner_row()
    assert (row.rank, row.tied, row.best_p_value) == (1, True, 1.0)

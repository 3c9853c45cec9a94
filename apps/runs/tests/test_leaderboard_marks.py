"""The leaderboard marks runs that are not clearly worse than #1; REST keeps its row-above flag beside it."""

import pytest

from apps.runs.leaderboard import leaderboard_rows
from apps.web.tests.board_builders import scored_experiment, scored_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def test_a_run_is_near_the_leader_only_when_its_interval_reaches_the_leaders(experiment):
    scored_run(experiment, 0.9, ci=0.01)
    scored_run(experiment, 0.85, ci=0.05)
    scored_run(experiment, 0.6, ci=0.1)
    scored_run(experiment, 0.55, ci=0.1)
    _, rows = leaderboard_rows(experiment=experiment)
    assert [row.overlaps_leader for row in rows] == [False, True, False, False]
    assert [row.overlaps_previous for row in rows] == [False, True, False, True]


def test_a_later_page_compares_with_the_leader_it_does_not_hold(experiment):
    scored_run(experiment, 0.9, ci=0.4)
    scored_run(experiment, 0.35, ci=0.2)
    scored_run(experiment, 0.3, ci=0.01)
    _, rows = leaderboard_rows(experiment=experiment, offset=1, limit=5)
    assert [(row.rank, row.overlaps_leader) for row in rows] == [(2, True), (3, False)]


def test_the_rest_leaderboard_keeps_overlaps_previous_and_adds_overlaps_leader(api, experiment):
    for score, ci in ((0.9, 0.01), (0.85, 0.05), (0.6, 0.1), (0.55, 0.1)):
        scored_run(experiment, score, ci=ci)
    results = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard").json()["results"]
    assert [(row["overlaps_previous"], row["overlaps_leader"]) for row in results] == [
        (False, False), (True, True), (False, False), (True, False)]
    weighted = {row["run_id"]: (row["rank"], row["overlaps_leader"]) for row in results}
    by_scorer = api.get(f"/api/v1/experiments/{experiment.pk}/leaderboard?sort=kw&order=asc").json()["results"]
    assert [row["weighted_score"] for row in by_scorer] == [0.55, 0.6, 0.85, 0.9]
    # Another order moves the rows, not their rank or their closeness to #1; "the row above" is weighted order's.
    assert {row["run_id"]: (row["rank"], row["overlaps_leader"]) for row in by_scorer} == weighted
    assert not any(row["overlaps_previous"] for row in by_scorer)

"""The rank is the weighted-score rank whatever the sort: the sort moves rows, "#1" (and "Fork run #1") is the best."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.runs.leaderboard import leaderboard_rows
from apps.runs.models import Run
from apps.web.tests.board_builders import scored_experiment, scored_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def ranks_by_run(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="run-row-([0-9a-f-]+)" data-rank="(\d+)"', html))


def board(client, experiment, query: str) -> str:
    return client.get(reverse("web:experiment_leaderboard", args=[experiment.pk]) + f"?{query}").content.decode()


def test_sorted_lowest_first_the_worst_run_is_still_ranked_last_and_fork_run_1_is_the_best(client, owner, experiment):
    best, middle, worst = scored_run(experiment, 0.9), scored_run(experiment, 0.6), scored_run(experiment, 0.3)
    client.force_login(owner)
    html = board(client, experiment, "sort=weighted_score&dir=asc")
    assert ranks_by_run(html) == {str(worst.pk): "3", str(middle.pk): "2", str(best.pk): "1"}
    assert list(ranks_by_run(html)) == [str(worst.pk), str(middle.pk), str(best.pk)]
    assert f'href="{reverse("web:run_fork", args=[best.pk])}">Fork<span class="visually-hidden"> run #1</span>' in html


def test_every_sort_and_page_agrees_on_each_runs_rank(client, owner, experiment):
    for n in range(30):
        scored_run(experiment, round(0.3 + n / 100, 2) if n != 7 else 0.5, kw=(n * 7 % 30) / 30, short=1 - n / 30)
    client.force_login(owner)
    weighted = {**ranks_by_run(board(client, experiment, "")), **ranks_by_run(board(client, experiment, "page=2"))}
    assert len(weighted) == 30
    for query in ("sort=kw&dir=desc", "sort=kw&dir=asc", "sort=short&dir=asc", "sort=weighted_score&dir=asc"):
        pages = [board(client, experiment, query), board(client, experiment, query + "&page=2")]
        seen = {**ranks_by_run(pages[0]), **ranks_by_run(pages[1])}
        assert seen == weighted, query


def test_a_tie_split_across_pages_shares_its_rank_on_both(experiment):
    scored_run(experiment, 0.9)
    scored_run(experiment, 0.7)
    scored_run(experiment, 0.7)
    scored_run(experiment, 0.1)
    _, first = leaderboard_rows(experiment=experiment, limit=2)
    _, second = leaderboard_rows(experiment=experiment, offset=2, limit=2)
    assert [(row.rank, row.tied) for row in first + second] == [(1, False), (2, True), (2, True), (4, False)]


def test_partial_runs_rank_after_every_full_run_in_any_order(experiment):
    full_low = scored_run(experiment, 0.2)
    partial_high = scored_run(experiment, 0.95)
    Run.objects.filter(pk=partial_high.pk).update(sample_ids=["i0"], items_scored=1)
    scored_run(experiment, 0.6)
    _, rows = leaderboard_rows(experiment=experiment, sort="kw", descending=True)
    ranks = {row.run.pk: (row.rank, row.partial) for row in rows}
    assert ranks[full_low.pk] == (2, False) and ranks[partial_high.pk] == (3, True)


def test_the_rank_costs_no_query_per_row(client, owner, experiment):
    for n in range(5):
        scored_run(experiment, n / 10)
    client.force_login(owner)
    board(client, experiment, "sort=kw")
    cache.clear()  # both cold: paired tests are cached by score revision (a warm page skips their query)
    with CaptureQueriesContext(connection) as few:
        board(client, experiment, "sort=kw")
    for n in range(20):
        scored_run(experiment, 0.5 + n / 100)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        board(client, experiment, "sort=kw")
    assert len(many) == len(few)

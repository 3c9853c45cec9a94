"""The experiment pages read a bounded number of queries whatever the number of runs (bench/pages.py times them
at 10,000): no query per row, and a live view region asked for alone does not read the leaderboard."""

import random

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.runs.models import Run
from apps.web.tests.board_builders import scored_experiment, scored_run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db

BOARD = "experiment-leaderboard"
# (what, DOM target or None for the whole page, query string)
PAGES = [
    ("leaderboard", BOARD, ""),
    ("leaderboard sorted by a scorer", BOARD, "sort=kw"),
    ("leaderboard sorted by a scorer, lowest first", BOARD, "sort=kw&dir=asc"),
    ("leaderboard page 2", BOARD, "page=2"),
    ("live view", None, ""),
]


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def add_runs(experiment, count: int, *, seed: int) -> None:
    """Runs close to each other (so rows are tested against #1), many tied, some partial or approved."""
    rng = random.Random(seed)
    for _ in range(count):
        run = scored_run(experiment, rng.choice([0.5, 0.55, 0.6, 0.6, 0.65]), ci=0.2, kw=rng.random(),
                         approval=rng.choice(["", "", "approved"]))
        if rng.random() < 0.2:
            Run.objects.filter(pk=run.pk).update(sample_ids=["i0"], items_scored=1)


def url_of(experiment, target, query) -> str:
    name = "web:experiment_leaderboard" if target == BOARD else "web:experiment"
    return reverse(name, args=[experiment.pk]) + (f"?{query}" if query else "")


def queries(client, url, target) -> int:
    cache.clear()  # cached paired tests would hide their query
    with CaptureQueriesContext(connection) as captured:
        response = htmx(client, url, target=target) if target else client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_leaderboard_and_live_view_read_as_many_queries_at_80_runs_as_at_30(client, owner, experiment,
                                                                                 django_assert_max_num_queries):
    client.force_login(owner)
    client.get(reverse("web:experiment", args=[experiment.pk]))  # the first request reads the setup state once
    add_runs(experiment, 30, seed=1)
    few = {label: queries(client, url_of(experiment, target, query), target) for label, target, query in PAGES}
    assert few["leaderboard"] <= 9 and few["live view"] <= 13
    add_runs(experiment, 50, seed=2)
    for label, target, query in PAGES:
        cache.clear()
        with django_assert_max_num_queries(few[label], info=label):
            url = url_of(experiment, target, query)
            assert (htmx(client, url, target=target) if target else client.get(url)).status_code == 200


def test_run_detail_reads_as_many_queries_among_80_runs_as_among_3(client, owner, experiment,
                                                                    django_assert_max_num_queries):
    client.force_login(owner)
    client.get(reverse("web:experiment", args=[experiment.pk]))
    add_runs(experiment, 3, seed=3)
    run = Run.objects.filter(experiment=experiment).first()
    few = queries(client, reverse("web:run", args=[run.pk]), None)
    add_runs(experiment, 77, seed=4)
    with django_assert_max_num_queries(few):
        assert client.get(reverse("web:run", args=[run.pk])).status_code == 200


@pytest.mark.parametrize("target", ["experiment-progress", "experiment-start", "experiment-timeline"])
def test_a_live_view_region_asked_for_alone_reads_neither_the_leaderboard_nor_the_other_regions(
        client, owner, experiment, target):
    client.force_login(owner)
    client.get(reverse("web:experiment", args=[experiment.pk]))
    add_runs(experiment, 10, seed=5)
    url = reverse("web:experiment", args=[experiment.pk])
    with CaptureQueriesContext(connection) as captured:
        response = htmx(client, url, target=target)
    assert response.status_code == 200 and f'id="{target}"' in response.content.decode()
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "runs_scoresummary" not in sql  # the leaderboard's rows
    assert ("runs_event" in sql) == (target == "experiment-timeline")
    assert len(captured.captured_queries) < queries(client, url, None)

"""The leaderboard partial and page: order, sorting by a scorer, the CI bar, tie and overlap marks, paging."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.web.tests.board_builders import scored_experiment, scored_run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def board_url(experiment, query: str = "") -> str:
    return reverse("web:experiment_leaderboard", args=[experiment.pk]) + (f"?{query}" if query else "")


def row_ids(html: str) -> list[str]:
    return re.findall(r'role="row" class="lb-row[^"]*" id="run-row-([0-9a-f-]+)"', html)


def test_the_owner_sees_runs_best_first_with_their_scores_points_and_controls(client, owner, experiment):
    low = scored_run(experiment, 0.40, temperature=0.9)
    high = scored_run(experiment, 0.90, temperature=0.1, model="fake-large")
    client.force_login(owner)
    response = client.get(board_url(experiment))
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Leaderboard</h1>" in html
    assert row_ids(html) == [str(high.pk), str(low.pk)]
    assert "0.900" in html and "fake-large" in html and "stages.0.params.temperature" in html
    assert reverse("web:run_approve", args=[high.pk]) in html and reverse("web:run_fork", args=[high.pk]) in html
    assert f'hx-get="{reverse("web:run", args=[high.pk])}" hx-select="#run-summary"' in html
    assert f'action="{reverse("web:compare")}"' in html and f'name="run" value="{high.pk}"' in html


def test_a_scorer_column_sorts_both_ways_and_says_so_with_aria_sort(client, owner, experiment):
    a = scored_run(experiment, 0.9, kw=0.2)
    b = scored_run(experiment, 0.5, kw=0.7)
    c = scored_run(experiment, 0.1, kw=0.5)
    client.force_login(owner)
    desc = htmx(client, board_url(experiment, "sort=kw&dir=desc"), target="experiment-leaderboard").content.decode()
    assert row_ids(desc) == [str(b.pk), str(c.pk), str(a.pk)]
    assert re.search(r'aria-sort="descending">\s*<a href="[^"]*\?sort=kw&amp;dir=asc"', desc)
    asc = htmx(client, board_url(experiment, "sort=kw&dir=asc"), target="experiment-leaderboard").content.decode()
    assert row_ids(asc) == [str(a.pk), str(c.pk), str(b.pk)]
    assert 'aria-sort="ascending"' in asc
    assert re.search(r'aria-sort="none">\s*<a href="[^"]*\?sort=weighted_score&amp;dir=desc"', asc)


def test_an_unknown_sort_falls_back_to_the_weighted_score(client, owner, experiment):
    a, b = scored_run(experiment, 0.3), scored_run(experiment, 0.8)
    client.force_login(owner)
    html = client.get(board_url(experiment, "sort=nope&dir=sideways")).content.decode()
    assert row_ids(html) == [str(b.pk), str(a.pk)]


def test_the_weighted_score_shows_its_interval_as_numbers_and_as_a_bar(client, owner, experiment):
    scored_run(experiment, 0.6, ci=0.1)
    client.force_login(owner)
    html = client.get(board_url(experiment)).content.decode()
    assert "0.500–0.700" in html
    assert '<rect class="ci-band" x="50.0" y="1" width="20.0"' in html
    assert '<rect class="ci-point" x="59.0"' in html


def marks(html: str) -> list[tuple[str, bool, bool]]:
    """(rank, tie mark, "≈ #1" mark) of each row, in order."""
    cells = re.findall(r'class="num lb-rank">(#\d+)(.*?)</span>\s*<span role="cell" class="lb-score"', html, re.S)
    return [(rank, ">tie</span>" in rest, ">≈ #1</span>" in rest) for rank, rest in cells]


def test_equal_scores_share_a_rank_and_runs_whose_interval_overlaps_the_leaders_are_marked(
        client, owner, experiment):
    scored_run(experiment, 0.8, ci=0.01)
    scored_run(experiment, 0.8, ci=0.01)  # ties the leader: shares #1, needs no "≈ #1"
    scored_run(experiment, 0.75, ci=0.1)  # overlaps 0.8's interval
    scored_run(experiment, 0.2, ci=0.01)  # clearly worse
    client.force_login(owner)
    html = client.get(board_url(experiment)).content.decode()
    assert marks(html) == [("#1", True, False), ("#1", True, False), ("#3", False, True), ("#4", False, False)]
    assert 'title="Its 95% interval overlaps #1’s: not clearly worse than the best run"' in html


def test_overlapping_the_row_above_is_not_enough_to_be_marked_as_close_to_the_best(client, owner, experiment):
    scored_run(experiment, 0.9, ci=0.01)
    scored_run(experiment, 0.85, ci=0.05)  # reaches 0.90: overlaps #1
    scored_run(experiment, 0.6, ci=0.1)
    scored_run(experiment, 0.55, ci=0.1)  # overlaps the row above, not #1
    client.force_login(owner)
    html = client.get(board_url(experiment)).content.decode()
    assert marks(html) == [("#1", False, False), ("#2", False, True), ("#3", False, False), ("#4", False, False)]


def test_the_second_page_is_marked_against_the_leader_on_the_first(client, owner, experiment):
    scored_run(experiment, 0.9, ci=0.4)  # #1: 0.5–1.0
    for n in range(24):
        scored_run(experiment, 0.6 + n / 100, ci=0.01)
    scored_run(experiment, 0.35, ci=0.2)  # #26 reaches 0.55: overlaps #1
    scored_run(experiment, 0.3, ci=0.01)  # #27 does not
    client.force_login(owner)
    html = client.get(board_url(experiment, "page=2")).content.decode()
    assert marks(html) == [("#26", False, True), ("#27", False, False)]


def test_a_scorer_order_keeps_each_runs_weighted_rank_and_tie(client, owner, experiment):
    scored_run(experiment, 0.8, ci=0.1, kw=0.1)
    scored_run(experiment, 0.8, ci=0.1, kw=0.9)
    scored_run(experiment, 0.2, ci=0.01, kw=0.5)
    client.force_login(owner)
    html = client.get(board_url(experiment, "sort=kw")).content.decode()
    assert marks(html) == [("#1", True, False), ("#3", False, False), ("#1", True, False)]


def test_rejected_runs_are_left_out_and_approved_ones_are_marked(client, owner, experiment):
    scored_run(experiment, 0.9, approval="rejected")
    approved = scored_run(experiment, 0.5, approval="approved")
    client.force_login(owner)
    html = client.get(board_url(experiment)).content.decode()
    assert row_ids(html) == [str(approved.pk)] and "Approved</span>" in html
    assert reverse("web:run_approve", args=[approved.pk]) not in html  # already approved


def test_the_leaderboard_is_paginated_and_paging_keeps_the_sort(client, owner, experiment):
    for n in range(27):
        scored_run(experiment, n / 100, kw=1 - n / 100)
    client.force_login(owner)
    html = client.get(board_url(experiment, "sort=kw&dir=desc")).content.decode()
    assert len(row_ids(html)) == 25 and "Page 1 of 2" in html
    assert "?sort=kw&amp;dir=desc&amp;page=2" in html
    second = client.get(board_url(experiment, "sort=kw&dir=desc&page=2")).content.decode()
    assert len(row_ids(second)) == 2 and [rank for rank, _, _ in marks(second)] == ["#2", "#1"]
    assert client.get(board_url(experiment, "page=99")).status_code == 200


def test_htmx_gets_only_the_leaderboard_partial(client, owner, experiment):
    scored_run(experiment, 0.5)
    client.force_login(owner)
    html = htmx(client, board_url(experiment), target="experiment-leaderboard").content.decode()
    assert html.lstrip().startswith('<section id="experiment-leaderboard"') and "<html" not in html
    assert 'id="leaderboard-inbox"' in html and 'data-live="true"' in html


def test_a_sorted_view_is_not_the_one_pushes_keep_current(client, owner, experiment):
    scored_run(experiment, 0.5)
    client.force_login(owner)
    html = htmx(client, board_url(experiment, "sort=kw"), target="experiment-leaderboard").content.decode()
    assert 'data-live="false"' in html


def test_another_users_experiment_is_a_404(client, other_user, experiment):
    client.force_login(other_user)
    assert client.get(board_url(experiment)).status_code == 404


def test_a_guest_reads_the_leaderboard_without_write_controls(client, guest_mode, experiment):
    run = scored_run(experiment, 0.5)
    html = client.get(board_url(experiment)).content.decode()
    assert row_ids(html) == [str(run.pk)]
    assert "Approve" not in html and "Reject" not in html and reverse("web:run_fork", args=[run.pk]) not in html


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user, experiment):
    response = client.get(board_url(experiment))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_query_count_does_not_grow_with_the_rows_on_a_page(client, owner, experiment):
    client.force_login(owner)
    htmx(client, board_url(experiment), target="experiment-leaderboard")  # the session's first load is extra
    counts = []
    for rows in (5, 25):
        experiment.runs.all().delete()
        for n in range(rows):
            scored_run(experiment, n / 100)
        for query in ("", "sort=kw&dir=asc"):
            with CaptureQueriesContext(connection) as queries:
                response = htmx(client, board_url(experiment, query), target="experiment-leaderboard")
            assert len(row_ids(response.content.decode())) == rows
            counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3]
    assert max(counts) <= 12

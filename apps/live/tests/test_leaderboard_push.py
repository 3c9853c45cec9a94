"""Leaderboard pushes carry only the rows that changed, with the page's order; the chart is pushed whole."""

import re

import pytest

from apps.activity.kinds import Kind
from apps.live.groups import targets_for
from apps.live.pushes import push_build
from apps.live.rows import rows_forget
from apps.live.tests.conftest import record
from apps.runs.services.runs import run_set_approval
from apps.web.tests.board_builders import scored_experiment, scored_run
from apps.web.tests.builders import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_memo():
    rows_forget()
    yield
    rows_forget()


@pytest.fixture
def experiment(owner):
    return scored_experiment(owner, make_project(owner))


def pushed(experiment, kind=Kind.RUN_COMPLETED, *, guests=False) -> dict[str, str]:
    event = record(experiment, kind)
    [(target, batch)] = [(t, b) for t, b in targets_for([event], guests=guests).items() if t.scope == "experiment"]
    return push_build(target, batch)["html"]


def inbox(html: str) -> tuple[list[str], list[str]]:
    """(the order the push names, the ids of the rows it carries)."""
    match = re.search(r'<div id="leaderboard-inbox" hidden data-order="([^"]*)" data-total="\d+">'
                      r'(.*?)</div>\s*(?=<section|$)', html, re.S)
    assert match, "the push has no leaderboard inbox"
    return match.group(1).split(), re.findall(r'role="row" class="lb-row[^"]*" id="(run-row-[^"]+)"', match.group(2))


def test_the_first_push_carries_every_row_of_the_first_page_in_order(owner, experiment):
    best, worst = scored_run(experiment, 0.9), scored_run(experiment, 0.2)
    order, rows = inbox(pushed(experiment)["owner"])
    assert order == rows == [f"run-row-{best.pk}", f"run-row-{worst.pk}"]


def test_a_newly_finished_run_pushes_its_row_and_not_the_unchanged_ones(owner, experiment):
    best, middle = scored_run(experiment, 0.9), scored_run(experiment, 0.6)
    pushed(experiment)
    newcomer = scored_run(experiment, 0.1, temperature=0.9)
    html = pushed(experiment)["owner"]
    order, rows = inbox(html)
    assert rows == [f"run-row-{newcomer.pk}"]
    assert order == [f"run-row-{best.pk}", f"run-row-{middle.pk}", f"run-row-{newcomer.pk}"]
    assert "0.100" in html and 'data-total="3"' in html


def test_a_run_that_takes_the_lead_pushes_the_rows_whose_rank_changed(owner, experiment):
    first, second = scored_run(experiment, 0.9, ci=0.01), scored_run(experiment, 0.5, ci=0.01)
    pushed(experiment)
    leader = scored_run(experiment, 0.95, ci=0.01)
    order, rows = inbox(pushed(experiment, Kind.NEW_BEST)["owner"])
    assert order[0] == f"run-row-{leader.pk}"
    assert set(rows) == {f"run-row-{leader.pk}", f"run-row-{first.pk}", f"run-row-{second.pk}"}


def test_a_rejected_run_leaves_the_order_and_nothing_else_is_sent_when_nothing_changed(owner, experiment):
    keep, drop = scored_run(experiment, 0.9), scored_run(experiment, 0.2)
    pushed(experiment)
    run_set_approval(run=drop, approval="rejected")
    order, rows = inbox(pushed(experiment, Kind.RUN_REJECTED)["owner"])
    assert order == [f"run-row-{keep.pk}"] and rows == []
    assert 'id="leaderboard-inbox"' not in pushed(experiment)["owner"]


def test_events_that_change_no_score_push_no_leaderboard_or_chart(owner, experiment):
    scored_run(experiment, 0.9)
    html = pushed(experiment, Kind.RUN_STARTED)["owner"]
    assert 'id="leaderboard-inbox"' not in html and 'id="experiment-chart"' not in html


def test_the_chart_is_pushed_whole_with_the_new_run(owner, experiment):
    scored_run(experiment, 0.4)
    scored_run(experiment, 0.8)
    html = pushed(experiment)["owner"]
    chart = re.search(r'<section id="experiment-chart".*?</section>', html, re.S).group(0)
    assert "2 scored runs" in chart and "Best so far: 0.800" in chart


def test_the_guest_view_has_no_write_controls_and_its_own_memo(owner, guest_mode, experiment):
    run = scored_run(experiment, 0.7)
    html = pushed(experiment, guests=True)
    assert "Approve" in html["owner"] and "Approve" not in html["guest"] and "Fork" not in html["guest"]
    assert inbox(html["guest"])[1] == [f"run-row-{run.pk}"]
    assert "csrfmiddlewaretoken" not in html["owner"]  # pushes have no request: the body's CSRF header serves

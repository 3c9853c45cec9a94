"""The score chart: a scatter per swept parameter, best so far by finish order, as SVG with text."""

import re

import pytest
from django.urls import reverse

from apps.runs.board import chart_data
from apps.web.tests.board_builders import scored_experiment, scored_run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def chart_url(experiment) -> str:
    return reverse("web:experiment_chart", args=[experiment.pk])


def figure(html: str, key: str) -> str:
    return re.search(rf'<figure class="chart" id="chart-{key}">(.*?)</figure>', html, re.S).group(1)


def test_each_axis_has_one_point_per_run_and_best_so_far_steps_up(client, owner, experiment):
    scored_run(experiment, 0.3, temperature=0.9, finished=1)
    scored_run(experiment, 0.7, temperature=0.1, model="fake-large", finished=2)
    scored_run(experiment, 0.5, temperature=0.5, finished=3)
    client.force_login(owner)
    html = client.get(chart_url(experiment)).content.decode()
    temperature, model, best = figure(html, "axis-0"), figure(html, "axis-1"), figure(html, "best")
    assert temperature.count("<circle") == 3 and model.count("<circle") == 3
    assert "<title>score 0.700 · temperature = 0.1</title>" in temperature
    assert ">fake-chat</text>" in model and ">fake-large</text>" in model  # categorical: a column per value
    assert 'role="img"' in best and '<path class="best-line" d="M ' in best
    assert best.count("<circle") == 2  # 0.3, then 0.7; 0.5 did not raise the best
    assert "Best so far: 0.700, reached by run 2 of 3 to finish" in best
    assert "the best score, 0.700, came at temperature = 0.1" in temperature


def test_a_large_experiment_is_plotted_from_a_bounded_sample_with_the_best_in_it(experiment):
    for n in range(30):
        scored_run(experiment, n / 100, finished=n)
    data = chart_data(experiment=experiment, limit=10)
    assert data.total == 30 and len(data.sample) <= 10
    assert data.best.score == 0.29 and len(data.steps) == 30


def test_htmx_gets_only_the_chart_partial(client, owner, experiment):
    scored_run(experiment, 0.5)
    client.force_login(owner)
    html = htmx(client, chart_url(experiment), target="experiment-chart").content.decode()
    assert html.lstrip().startswith('<section id="experiment-chart"') and "<html" not in html


def test_with_no_scored_run_the_chart_says_so(client, owner, experiment):
    client.force_login(owner)
    assert "No scored runs yet" in client.get(chart_url(experiment)).content.decode()


def test_a_guest_reads_the_chart_and_another_user_gets_a_404(client, guest_mode, other_user, experiment):
    scored_run(experiment, 0.5)
    assert client.get(chart_url(experiment)).status_code == 200
    client.force_login(other_user)
    assert client.get(chart_url(experiment)).status_code == 404


def test_without_guest_access_an_anonymous_visitor_is_sent_to_log_in(client, admin_user, experiment):
    assert client.get(chart_url(experiment)).status_code == 302

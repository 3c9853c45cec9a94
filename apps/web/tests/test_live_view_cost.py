"""The live view stays cheap as runs pile up: the chart loads after the page, queries do not grow with runs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.runs.board import chart_data
from apps.web.tests.board_builders import scored_experiment, scored_run
from apps.web.tests.builders import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture
def experiment(owner, project):
    return scored_experiment(owner, project)


def live_url(experiment) -> str:
    return reverse("web:experiment", args=[experiment.pk])


def test_the_live_view_asks_for_the_chart_after_loading_and_links_to_it_without_javascript(
        client, owner, experiment):
    scored_run(experiment, 0.5)
    client.force_login(owner)
    html = client.get(live_url(experiment)).content.decode()
    chart = reverse("web:experiment_chart", args=[experiment.pk])
    section = html[html.index('<section id="experiment-chart"'):]
    section = section[:section.index("</section>")]
    assert f'hx-get="{chart}" hx-trigger="load" hx-swap="outerHTML"' in section
    assert f'<a href="{chart}">See the score chart</a>' in section and "<circle" not in section
    assert "<circle" in htmx(client, chart, target="experiment-chart").content.decode()


def test_the_live_views_queries_do_not_grow_with_the_runs(client, owner, experiment):
    client.force_login(owner)
    client.get(live_url(experiment))  # the session's first load is extra
    counts = []
    for runs in (3, 30):
        experiment.runs.all().delete()
        for n in range(runs):
            scored_run(experiment, n / 100, temperature=n / 10)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(live_url(experiment)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 16


def test_a_large_experiments_chart_sample_stays_the_same_from_render_to_render(experiment):
    for n in range(30):
        scored_run(experiment, n / 100, finished=n)
    first, again = chart_data(experiment=experiment, limit=10), chart_data(experiment=experiment, limit=10)
    assert [run.run_id for run in first.sample] == [run.run_id for run in again.sample]
    assert len(first.sample) == 10 and first.best.score == 0.29

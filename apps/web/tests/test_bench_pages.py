"""bench/pages.py's data: every run finished with the rows the pages read, and a failing page stops it."""

from __future__ import annotations

import pytest

from apps.runs.models import Run, ScoreSummary, Sweep
from bench import pages

pytestmark = pytest.mark.django_db


def test_the_generator_stores_finished_runs_with_stage_results_scores_summaries_and_events(owner):
    built = pages.build(40)
    experiment = built["experiment"]
    assert built["runs"] == 40 and pages.stored_counts(experiment) == {
        "runs": 40, "stage_results": 40 * pages.ITEMS, "scores": 40 * pages.ITEMS * len(pages.SCORERS),
        "summaries": 40 * len(pages.SCORERS), "events": 80 + 1}  # + the sweep's own start event
    sweep = Sweep.objects.get(experiment=experiment)
    assert sweep.status == Sweep.Status.COMPLETED and sweep.runs_done == sweep.runs_total == 40
    summary = ScoreSummary.objects.filter(run=built["mid_run"], scorer_name="keyword").get()
    assert summary.n == pages.ITEMS and summary.ci_low <= summary.mean <= summary.ci_high
    scores = sorted(Run.objects.filter(experiment=experiment).values_list("weighted_score", flat=True))
    assert scores[0] < scores[-1] and scores[0] <= built["mid_run"].weighted_score <= scores[-1]


def test_a_page_that_is_not_200_stops_the_bench_naming_it(client, owner):
    with pytest.raises(pages.PageFailed, match=r"nowhere: GET /no-such-page/ answered 404"):
        pages._timed(client, "nowhere", "/no-such-page/", headers={})

"""Compare (REST and page) and the report carry the paired test: its p-value, interval, n and effect size."""

from __future__ import annotations

import pytest

from apps.exports.tests.builders import make_experiment, make_run
from apps.exports.tests.test_report import report, section, tables
from apps.runs.models import Run
from apps.runs.services.scoring import scores_store_many

pytestmark = pytest.mark.django_db

N_ITEMS = 40


def rescored(run: Run, values: list[float]) -> Run:
    """Replace the run's scores with one value per item for both scorers (and refresh its summaries)."""
    rows = [{"scorer_name": name, "item_id": f"item{i}", "repeat": 0, "value": value, "error": "", "metadata": {}}
            for i, value in enumerate(values) for name in ("quality", "length")]
    scores_store_many(entries=[(str(run.pk), rows)], specs=list(run.experiment.spec.scoring))
    run.refresh_from_db()
    return run


@pytest.fixture
def experiment(owner, endpoint):
    return make_experiment(owner, endpoint)


@pytest.fixture
def trio(experiment):
    base = [0.3 + 0.6 * (i % 7) / 6 for i in range(N_ITEMS)]
    # Approved, so the report exports it whichever of it and `close` scores a hair higher.
    best = rescored(make_run(experiment, position=0, point={"stages.0.params.temperature": 0.1},
                             approval=Run.Approval.APPROVED),
                    [min(1.0, v + 0.15) for v in base])
    baseline = rescored(make_run(experiment, position=1, point={"stages.0.params.temperature": 0.5}), base)
    close = rescored(make_run(experiment, position=2, point={"stages.0.params.temperature": 0.3}),
                     [min(1.0, v + 0.15 + (0.02 if i % 2 else -0.02)) for i, v in enumerate(base)])
    return best, baseline, close


def test_rest_compare_shows_the_test_its_p_value_interval_n_and_effect_size(api, trio):
    best, baseline, _ = trio
    body = api.get("/api/v1/runs/compare", {"a": str(baseline.pk), "b": str(best.pk)}).json()
    sig = body["significance"]
    assert sig["test"] == "wilcoxon" and sig["alternative"] == "two-sided"
    assert sig["n"] == N_ITEMS and sig["p_value"] < 0.001 and sig["significant"] and sig["alpha"] == 0.05
    assert 0.1 < sig["ci_low"] < sig["mean_difference"] < sig["ci_high"] < 0.2
    assert sig["effect_size"] == pytest.approx(1.0) and sig["b_better"] == N_ITEMS - sig["ties"]


def test_rest_compare_of_a_run_with_itself_finds_no_difference(api, trio):
    best = trio[0]
    sig = api.get("/api/v1/runs/compare", {"a": str(best.pk), "b": str(best.pk)}).json()["significance"]
    assert (sig["p_value"], sig["mean_difference"], sig["significant"]) == (1.0, 0.0, False)


def test_runs_of_different_experiments_are_not_paired(api, owner, endpoint, trio):
    elsewhere = make_run(make_experiment(owner, endpoint, name="Other"), score=0.4)
    body = api.get("/api/v1/runs/compare", {"a": str(trio[0].pk), "b": str(elsewhere.pk)}).json()
    assert body["significance"] is None


def test_the_compare_page_shows_the_verdict_p_interval_and_n(client, owner, trio):
    best, baseline, close = trio
    client.force_login(owner)
    html = client.get(f"/compare/?a={baseline.pk}&b={best.pk}").content.decode()
    part = html[html.index('id="compare-significance"'):]
    part = part[: part.index("</dl>")]
    assert "Run B is significantly better" in part and "Wilcoxon signed-rank" in part
    assert "95% CI +0.1" in part and f"{N_ITEMS} items" in part and "rank-biserial" in part
    tied = client.get(f"/compare/?a={best.pk}&b={close.pk}").content.decode()
    assert "No significant difference" in tied


def test_the_compare_page_refuses_no_one_the_verdict_but_a_stranger_gets_404(client, other_user, trio):
    client.force_login(other_user)
    assert client.get(f"/compare/?a={trio[1].pk}&b={trio[0].pk}").status_code == 404


def test_the_report_has_a_significance_line_per_run_against_the_best(api, experiment, trio):
    best, baseline, close = trio
    content = report(api, experiment)
    part = section(content, "Significance against the best")
    assert f"`{str(best.pk)[:8]}`" in part and "Holm-adjusted over the 2 comparison(s)" in part
    rows = {row[0]: row for row in tables(part)[0][2:]}
    worse = rows[f"`{str(baseline.pk)[:8]}`"]
    assert worse[1:3] == ["wilcoxon", str(N_ITEMS)] and worse[-1] == "significantly worse"
    assert worse[3].startswith("-0.1") and "[" in worse[3]
    assert rows[f"`{str(close.pk)[:8]}`"][-1] == "indistinguishable"
    board = section(content, "Leaderboard")
    assert "≈ #1 (paired test)" in board

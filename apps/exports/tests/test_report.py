"""The markdown report: leaderboard table with intervals, best config, totals, baseline diff, ratings."""

import re

import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.exports.tests.builders import make_run
from apps.runs.models import Run, Score

PIPE = re.compile(r"(?<!\\)\|")


def report(api, experiment, **query) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    response = api.get(f"/api/v1/experiments/{experiment.pk}/export/report" + (f"?{qs}" if qs else ""))
    assert response.status_code == 200, response.content
    return response.content.decode()


def section(content: str, title: str) -> str:
    return content.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def tables(text: str) -> list[list[list[str]]]:
    """Every table as rows of cells, splitting only on unescaped pipes."""
    found, current = [], []
    for line in text.split("\n"):
        if line.startswith("|"):
            current.append([c.strip() for c in PIPE.split(line)[1:-1]])
        elif current:
            found.append(current)
            current = []
    return found + ([current] if current else [])


def test_report_has_a_well_formed_leaderboard_with_confidence_intervals(api, experiment, runs):
    content = report(api, experiment)
    (board,) = tables(section(content, "Leaderboard"))
    header, rule, *rows = board
    assert {len(row) for row in board} == {len(header)}
    assert all(cell == "---" for cell in rule)
    assert header[:4] == ["Rank", "Run", "Config", "Weighted score [95% CI]"]
    assert "quality [95% CI]" in header and "length [95% CI]" in header
    assert len(rows) == 3  # the rejected and the pending run are left out
    assert rows[0][0] == "1" and rows[0][1] == f"`{str(runs['best'].pk)[:8]}`"
    assert rows[0][3] == "0.900 [0.860, 0.940]"
    assert "model=big-model" in rows[0][2] and "exported" in rows[0][-1]
    assert str(runs["rejected"].pk)[:8] not in section(content, "Leaderboard")


def test_report_marks_ties_and_approved_runs(api, experiment, runs):
    Run.objects.filter(pk=runs["middling"].pk).update(weighted_score=0.6, approval=Run.Approval.APPROVED)
    rows = tables(section(report(api, experiment), "Leaderboard"))[0][2:]
    assert [row[0] for row in rows] == ["1", "2=", "2="]
    assert all("tie" in row[-1] for row in rows[1:])
    middling = next(row for row in rows if row[1] == f"`{str(runs['middling'].pk)[:8]}`")
    assert "approved" in middling[-1] and "exported" in middling[-1]  # approved beats a higher score


def test_report_summarises_the_experiment(api, experiment, runs):
    summary = section(report(api, experiment), "Summary")
    assert "2 items × 1 repeat(s)" in summary
    assert "extract: model small-model on prod-llm" in summary
    assert "quality (llm_judge), weight 2" in summary and "length (length), weight 1" in summary
    assert "stages.0.params.temperature: 0.1 to 0.5 step 0.4" in summary
    assert "grid, completed: 4/4 runs" in summary
    assert "5 total" not in summary and "**Runs:** 5" in summary and "1 rejected" in summary


def test_report_best_configuration_is_fenced_yaml(api, experiment, runs):
    best = section(report(api, experiment), "Best configuration")
    fenced = best.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    data = yaml.safe_load(fenced)
    assert data["metadata"]["run_id"] == str(runs["best"].pk)
    assert data["stages"][0]["model"] == "big-model"


def test_report_totals_cost_tokens_and_cache_hit_rate(api, experiment, runs):
    costs = section(report(api, experiment), "Cost and tokens")
    assert "510 in, 250 out (760 total)" in costs  # every run counts, finished or not
    assert "$0.0625" in costs and "LLM calls:** 20," in costs
    assert "5 cache hits (cache-hit rate 25.0%)" in costs


def test_report_diffs_the_best_run_against_the_baseline(api, experiment, runs):
    diff = section(report(api, experiment), "Changes from the baseline")
    assert f"Baseline: run `{runs['baseline'].pk}`" in diff
    assert "(Δ +0.300)" in diff
    settings = tables(diff)[0]
    changed = {row[0]: (row[1], row[2]) for row in settings[2:]}
    assert changed == {"stages.0.model": ("small-model", "big-model"), "stages.0.params.temperature": ("0.5", "0.1")}
    scorers = {row[0]: row[1:] for row in tables(diff)[1][2:]}
    assert scorers["quality"] == ["0.600", "0.900", "+0.300"]


def test_report_baseline_query_picks_another_run_and_shows_prompt_diffs(api, experiment, runs):
    other = make_run(experiment, score=0.4, point={"stages.0.system_prompt": "Old prompt\nline | two"})
    diff = section(report(api, experiment, baseline=other.pk), "Changes from the baseline")
    assert f"run `{other.pk}`" in diff
    rows = {row[0]: row for row in tables(diff)[0][2:]}
    assert rows["stages.0.system_prompt"][1] == "Old prompt<br>line \\| two"
    assert "```diff" in diff and "-line | two" in diff


def test_report_when_the_best_run_is_the_baseline(api, experiment, runs):
    diff = section(report(api, experiment, baseline=runs["best"].pk), "Changes from the baseline")
    assert "is the baseline itself" in diff


def test_report_lists_human_ratings_with_comments(api, owner, experiment, runs):
    Score.objects.create(run=runs["best"], scorer_name="human", item_id="a", repeat=0, value=0.8, rated_by=owner,
                         metadata={"comment": "Crisp <b>and</b>\n# complete"})
    Score.objects.create(run=runs["best"], scorer_name="human", item_id="b", repeat=0, value=0.4, rated_by=owner)
    ratings = section(report(api, experiment), "Human ratings")
    assert "2 rating(s), mean 0.600." in ratings
    assert "item a, human = 0.80: Crisp &lt;b&gt;and&lt;/b&gt; # complete" in ratings


def test_report_escapes_pipes_and_newlines_in_table_cells(api, experiment, runs):
    make_run(experiment, score=0.99, point={"stages.0.model": "evil|model\n| --- |"})
    board = tables(section(report(api, experiment), "Leaderboard"))
    assert len(board) == 1
    assert {len(row) for row in board[0]} == {len(board[0][0])}
    assert "evil\\|model" in board[0][2][2]


def test_report_queries_do_not_grow_with_the_number_of_runs(api, experiment, runs):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report(api, experiment)
        return len(captured)

    queries()  # the first request also checks that setup is complete
    few = queries()
    for n in range(25):
        make_run(experiment, score=0.1 + n / 100, point={"stages.0.params.temperature": n / 10})
    assert queries() == few

"""The timeline's entries carry what their payload says: a new best's test, a prompt search's rounds, agent steps."""

import pytest

from apps.activity.kinds import Kind
from apps.web.tests.builders import htmx, make_event
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db

ENDPOINT_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def significance(**changes) -> dict:
    return {"test": "wilcoxon", "alternative": "greater", "p_value": 0.0031, "n": 30, "repeats": 1,
            "mean_difference": 0.112, "ci_low": 0.051, "ci_high": 0.17, "effect_size": 0.6, "b_better": 20,
            "a_better": 4, "ties": 6, "alpha": 0.05, "comparisons": 2, "holm_p": 0.0062, "significant": True,
            **changes}


def timeline(client, experiment) -> str:
    return htmx(client, url("experiment", experiment), target="experiment-timeline").content.decode()


def entry(html: str, marker: str) -> str:
    """The timeline entry (its <li id="event-…">, up to the next one) holding `marker`."""
    at = html.index(marker)
    end = html.find('<li id="event-', at)
    return " ".join(html[html.rindex('<li id="event-', 0, at):end if end != -1 else html.index("</ul>", at)].split())


def test_a_new_best_shows_its_paired_test_inline(client, owner, runnable):
    make_event(runnable, Kind.NEW_BEST, run_id="r1", weighted_score=0.812, significance=significance(),
               previous_best={"run_id": "r0", "weighted_score": 0.7})
    client.force_login(owner)
    line = entry(timeline(client, runnable), "<code>new_best_found</code>")
    assert "Score 0.812 (best was 0.700)" in line
    assert "Δ +0.112, 95% CI [+0.051, +0.170], p = 0.003 (Holm 0.006), n = 30" in line
    assert "Wilcoxon signed-rank" in line and "significantly better at α 0.05" in line


def test_a_tie_says_it_was_not_significant(client, owner, runnable):
    make_event(runnable, Kind.BEST_TIED, run_id="r2", weighted_score=0.72, previous_best={
        "run_id": "r1", "weighted_score": 0.71}, significance=significance(
        test="mcnemar_exact", p_value=0.41, holm_p=0.82, mean_difference=0.01, ci_low=-0.05, ci_high=0.07,
        significant=False, repeats=3))
    client.force_login(owner)
    line = entry(timeline(client, runnable), "<code>best.tied</code>")
    assert "Δ +0.010, 95% CI [−0.050, +0.070], p = 0.410" in line and "n = 30 items × 3 repeats" in line
    assert "McNemar exact" in line and "not significant at α 0.05: tied with the best" in line


def test_the_first_best_says_it_had_nothing_to_be_tested_against(client, owner, runnable):
    make_event(runnable, Kind.NEW_BEST, run_id="r0", weighted_score=0.5, significance=None)
    client.force_login(owner)
    assert "the best without a test" in entry(timeline(client, runnable), "<code>new_best_found</code>")


def test_prompt_search_rounds_and_proposals_show_round_score_and_the_variants_folded(client, owner, runnable):
    make_event(runnable, Kind.PROMPT_PROPOSALS, round=2, variants=["Be brief.", "Answer in one word."],
               new_variants=2, planned_runs=2, reasoning="The worst items rambled.", tokens_in=310, tokens_out=90,
               cached=False)
    make_event(runnable, Kind.PROMPT_ROUND, round=2, best_score=0.91, best_prompt="Answer in one word.",
               round_best_score=0.91, improved=True, stale_rounds=0, finished="rounds")
    client.force_login(owner)
    html = timeline(client, runnable)
    proposals = entry(html, "<code>prompt_search.proposals</code>")
    assert "Round 2: 2 variants, 2 new, 2 runs planned · 310 / 90 tokens" in proposals
    assert "<details><summary>Proposals and reasoning</summary>" in proposals
    assert "The worst items rambled." in proposals and "<pre>Answer in one word.</pre>" in proposals
    round_ = entry(html, "<code>prompt_search.round</code>")
    assert "Round 2: best 0.910 (this round 0.910) · improved" in round_ and "finished (rounds)" in round_


def test_a_round_without_a_gain_and_a_failed_proposer_say_so(client, owner, runnable):
    make_event(runnable, Kind.PROMPT_PROPOSALS, round=3, variants=[], reasoning="", error="no variants in the reply")
    make_event(runnable, Kind.PROMPT_ROUND, round=3, best_score=0.8, best_prompt="x", round_best_score=None,
               improved=False, stale_rounds=2, finished="patience", skipped="no variants in the reply")
    client.force_login(owner)
    html = timeline(client, runnable)
    assert "the proposer gave nothing to run: no variants in the reply" in entry(html, "prompt_search.proposals</code>")
    round_ = entry(html, "<code>prompt_search.round</code>")
    assert "no significant gain (2 rounds in a row)" in round_ and "finished (patience)" in round_


def test_an_agent_step_shows_tool_duration_and_tokens_with_its_arguments_folded(client, owner, runnable):
    make_event(runnable, Kind.AGENT_STEP, step=3, tool="run_batch", reasoning="try the middle",
               arguments={"configs": [{"stages.0.endpoint": ENDPOINT_ID, "stages.0.params.temperature": 0.5}]},
               result={"planned_runs": 1}, error=None, duration_ms=2400, tokens_in=120, tokens_out=45, cached=True)
    client.force_login(owner)
    line = entry(timeline(client, runnable), "<code>agent.step</code>")
    assert "Step 3 · <code>run_batch</code> · 2.4 s · 120 / 45 tokens (cached)" in line
    assert "<details><summary>Arguments, reasoning and result</summary>" in line
    assert "try the middle" in line and "&quot;planned_runs&quot;: 1" in line and ENDPOINT_ID in line


def test_a_guest_reads_the_steps_without_the_owners_endpoint_ids(client, guest_mode, runnable):
    make_event(runnable, Kind.AGENT_STEP, step=1, tool="run_batch", reasoning=f"endpoint {ENDPOINT_ID} is fast",
               arguments={"configs": [{"stages.0.endpoint": ENDPOINT_ID}]}, result=None, error=None,
               duration_ms=300, tokens_in=1, tokens_out=1, cached=False)
    html = timeline(client, runnable)
    assert "Step 1 · <code>run_batch</code> · 300 ms" in html
    assert ENDPOINT_ID not in html and "endpoint (hidden) is fast" in html


def test_a_refused_step_and_a_finished_agent_read_plainly(client, owner, runnable):
    make_event(runnable, Kind.AGENT_STEP, step=4, tool="run_batch", arguments={"configs": []}, reasoning="",
               result=None, error="configs[0]: temperature 9 is not a value of the axis", duration_ms=5,
               tokens_in=10, tokens_out=5, cached=False)
    make_event(runnable, Kind.AGENT_FINISHED, summary="Use 0.5.", steps=5, best={"weighted_score": 0.93})
    client.force_login(owner)
    html = timeline(client, runnable)
    assert "refused: configs[0]: temperature 9 is not a value of the axis" in entry(html, "<code>agent.step</code>")
    assert "After 5 steps, best 0.930" in entry(html, "<code>agent.finished</code>") and "Use 0.5." in html

"""The prompt_search planner's pure parts: options, the proposer's reply, and when a round counts."""

import pytest

from apps.engine.planners import PlanError, get_planner
from apps.engine.planners.prompt_search import PromptSearch, ProposalError, parse_reply

PROPOSER = {"endpoint": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "model": "m"}


def search(**options) -> PromptSearch:
    planner = get_planner("prompt_search", {"proposer": PROPOSER, **options})
    return PromptSearch.from_state(planner.plan([]).state)


def test_options_get_defaults_and_the_first_round_runs_the_stages_own_prompt():
    planner = get_planner("prompt_search", {"proposer": PROPOSER})
    assert planner.options["k"] == 4 and planner.options["rounds"] == 5 and planner.options["patience"] == 2
    assert planner.options["axis"] == "stages.0.system_prompt"
    assert list(planner.plan([])) == [{}]
    seeded = get_planner("prompt_search", {"proposer": PROPOSER, "seed_prompt": "Be kind."})
    assert list(seeded.plan([])) == [{"stages.0.system_prompt": "Be kind."}]


@pytest.mark.parametrize("options, field", [
    ({}, "options.proposer"),
    ({"proposer": {**PROPOSER, "temperature": 3}}, "options.proposer.temperature"),
    ({"proposer": PROPOSER, "rounds": 1.5}, "options.rounds"),
    ({"proposer": PROPOSER, "seed_prompt": ""}, "options.seed_prompt"),
])
def test_bad_options_name_their_field(options, field):
    with pytest.raises(PlanError) as error:
        get_planner("prompt_search", options)
    assert error.value.field == field


def test_a_reply_gives_variants_as_json_or_in_fenced_blocks():
    fenced = 'Sure!\n```json\n{"reasoning": "r", "variants": ["a", "a", "b", "c"]}\n```'
    assert parse_reply(fenced, 2) == (["a", "b"], "r")
    assert parse_reply("I changed the tone.\n```\nBe brief.\n```", 4) == (["Be brief."], "I changed the tone.")
    with pytest.raises(ProposalError):
        parse_reply("no idea", 4)


def test_a_higher_score_within_the_best_ones_confidence_half_width_is_not_an_improvement():
    state = search(patience=2)
    state.tell({}, 0.5, text="seed", half_width=0.1)
    assert state.close_round()["round"] == 0
    state.propose(["better", "much better"])
    state.tell({"stages.0.system_prompt": "better"}, 0.55, half_width=0.1)
    assert state.round_pending()
    state.tell({"stages.0.system_prompt": "much better"}, 0.58, half_width=0.1)
    summary = state.close_round()
    assert summary["improved"] is False and summary["best_score"] == 0.58 and summary["stale_rounds"] == 1
    assert state.propose(["much better", "new"]) == ["new"]  # tried prompts are never run again
    state.tell({"stages.0.system_prompt": "new"}, 0.6, half_width=0.1)
    assert state.close_round()["finished"] == "patience"


def test_the_proposer_prompt_holds_the_best_prompt_the_history_and_the_worst_items():
    state = search()
    state.tell({}, 0.4, text="Help the customer.")
    state.close_round()
    worst = [{"id": "i1", "score": "0.200", "input": "My order is late", "output": "ok",
              "feedback": [{"scorer": "keyword", "value": "0.200", "explanation": '{"missing": ["sorry"]}'}]}]
    [message] = state.proposer_messages(current_prompt="Help the customer.", worst=worst)
    text = message["content"]
    assert "<prompt>\nHelp the customer.\n</prompt>" in text and "score 0.400" in text
    assert "My order is late" in text and '"missing": ["sorry"]' in text and "Write 4 new variants" in text

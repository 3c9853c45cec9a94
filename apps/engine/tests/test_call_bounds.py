"""Each planner's call bounds: the runs and LLM calls a sweep of it makes at least and at most."""

from apps.engine.planners import get_planner
from apps.engine.planners.base import SweepShape

ITEMS = [{"id": f"i{n}", "input": f"question {n}"} for n in range(12)]
STAGES = [{"name": "answer", "endpoint": "e1", "model": "m", "system_prompt": "Be brief.",
           "prompt_template": "{{ input }}"}]
SPACE = [{"path": "stages.0.params.temperature", "values": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]},
         {"path": "stages.0.model", "values": ["a", "b"]}]
PROPOSER = {"endpoint": "e2", "model": "proposer"}


def shape(**changes) -> SweepShape:
    return SweepShape(**{"n": 20, "items": ITEMS, "repeats": 1, "stages": STAGES, "space": SPACE,
                         "space_size": 12, **changes})


def test_tpe_runs_n_configurations_on_every_item_and_repeat():
    bounds = get_planner("tpe").call_bounds(shape(n=8, repeats=2))

    assert bounds.runs == (8, 8)
    assert bounds.calls == (8 * 12 * 2, 8 * 12 * 2)
    assert bounds.planner == ()


def test_tpe_runs_no_more_configurations_than_the_space_holds():
    assert get_planner("tpe").call_bounds(shape(n=50)).runs == (12, 12)


def test_halving_counts_every_rung_and_the_promoted_items_the_cache_answers():
    planner = get_planner("halving", {"eta": 3, "min_items": 2})
    plan = planner.plan(SPACE, seed=1)  # 12 configurations: 12 runs on 2 items, 4 on 4, 2 on all 12

    bounds = planner.call_bounds(shape(state=plan.state))

    assert bounds.runs == (18, 18)
    assert bounds.calls == (12 * 2 + 4 * 4 + 2 * 12,) * 2
    assert bounds.calls[1] - bounds.repeated == 48  # what docs/planners.md says the sweep pays for
    assert bounds.repeated == 4 * 2 + 2 * 4


def test_halving_samples_its_own_configurations_for_pricing():
    planner = get_planner("halving")
    plan = planner.plan(SPACE, seed=1)

    points = planner.sample_points(shape(state=plan.state), size=4)

    assert len(points) == 4 and all(point in plan.state["configs"] for point in points)


def test_prompt_search_runs_k_variants_a_round_between_patience_and_all_rounds_and_calls_its_proposer():
    planner = get_planner("prompt_search", {"proposer": PROPOSER, "k": 4, "rounds": 5, "patience": 2})

    bounds = planner.call_bounds(shape())

    assert bounds.runs == (1 + 2 * 4, 1 + 5 * 4)
    assert bounds.calls == (9 * 12, 21 * 12)
    assert bounds.new_runs == (8, 20)  # every variant is a new prompt: none of it is cached
    (proposer,) = bounds.planner
    assert (proposer.endpoint, proposer.model, proposer.calls, proposer.max_tokens) == ("e2", "proposer", (2, 5), 2000)


def test_the_proposers_sample_prompt_holds_the_seed_prompt_and_the_worst_items():
    planner = get_planner("prompt_search", {"proposer": PROPOSER, "worst": 2, "seed_prompt": "Answer in one word."})

    (proposer,) = planner.call_bounds(shape(reply_chars=300)).planner

    text = proposer.messages[0]["content"]
    assert "Answer in one word." in text and "question 0" in text and "question 1" in text
    assert "question 2" not in text and "x" * 300 in text
    assert planner.sample_points(shape()) == [{"stages.0.system_prompt": "Answer in one word."}]


def test_an_agent_runs_at_most_n_configurations_its_steps_can_hold_and_calls_its_llm_once_a_step():
    planner = get_planner("agent", {"endpoint": "e3", "model": "agent", "max_steps": 3, "batch_max": 2})

    bounds = planner.call_bounds(shape(n=20))

    assert bounds.runs == (2, 6)  # one batch at least; 3 steps × 2 configurations at most
    assert bounds.calls == (2 * 12, 6 * 12)
    (agent,) = bounds.planner
    assert agent.calls == (2, 3) and agent.max_tokens == 1024 and agent.growth_chars > 0
    assert "stages.0.model" in agent.messages[-1]["content"]  # the space is part of its prompt


def test_an_agent_runs_no_more_than_n_nor_the_space():
    planner = get_planner("agent", {"endpoint": "e3", "model": "agent"})

    assert planner.call_bounds(shape(n=5)).runs == (5, 5)
    assert planner.call_bounds(shape(n=100)).runs == (8, 12)

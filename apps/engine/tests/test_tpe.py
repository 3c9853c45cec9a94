import json
import math
import statistics

import pytest

from apps.engine.hashing import canonical_json
from apps.engine.planners import PLANNERS, PlanError, get_planner
from apps.engine.planners.tpe import TpeSearch

MODEL = "stages.0.model"
TEMP = "stages.0.params.temperature"
PROMPT = "stages.0.prompt_template"
TOKENS = "stages.0.params.max_tokens"
TOP_P = "stages.0.params.top_p"

MIXED = [
    {"path": MODEL, "values": [f"m{i}" for i in range(6)]},
    {"path": TEMP, "min": 0, "max": 2, "step": 0.1},
    {"path": PROMPT, "values": [f"Prompt {i}: {{{{ input }}}}" for i in range(8)]},
    {"path": TOKENS, "min": 16, "max": 1024, "distribution": "log_uniform"},
]


def mixed_score(point: dict) -> float:
    """1.0 at model m4, temperature 0.6, prompt 5 and 200 max tokens; smooth around it."""
    model, prompt = int(point[MODEL][1:]), int(point[PROMPT].split(":")[0].split()[1])
    return ((1 - abs(model - 4) / 6) * (1 - abs(prompt - 5) / 10) * (1 - abs(point[TEMP] - 0.6) / 2.5)
            * (1 - abs(math.log(point[TOKENS] / 200)) / 8))


def run_tpe(space, score, *, seed: int, trials: int, batch: int = 4, options=None) -> TpeSearch:
    search = TpeSearch(space, seed=seed, options=options)
    while len(search.trials) < trials:
        points = search.ask(min(batch, trials - len(search.trials)))
        if not points:
            break
        for point in points:
            search.tell(point, score(point))
    return search


def test_tpe_is_registered_as_an_adaptive_sweep_kind_that_needs_n():
    planner = PLANNERS.get("tpe")
    assert planner.adaptive and planner.needs_n and not planner.redirectable


def test_tpe_finds_the_optimum_of_a_mixed_space_faster_than_random():
    seeds = range(7)
    tpe = [run_tpe(MIXED, mixed_score, seed=s, trials=80).best()[1] for s in seeds]
    randomly = [max(mixed_score(p) for p in get_planner("random").plan(MIXED, n=80, seed=s)) for s in seeds]
    assert statistics.median(tpe) > 0.92
    assert statistics.median(tpe) > statistics.median(randomly) + 0.08


def test_tpe_proposals_stay_on_their_axes():
    search = run_tpe(MIXED + [{"path": TOP_P, "min": 0.1, "max": 1, "distribution": "uniform"},
                              {"path": "stages.0.params.seed", "min": 1, "max": 9, "distribution": "int"}],
                     lambda p: p[TOP_P], seed=3, trials=30)
    for point, _ in search.trials:
        assert point[MODEL] in MIXED[0]["values"] and point[PROMPT] in MIXED[2]["values"]
        assert point[TEMP] in [round(i / 10, 1) for i in range(21)]
        assert 16 <= point[TOKENS] <= 1024 and isinstance(point[TOKENS], int)
        assert 0.1 <= point[TOP_P] <= 1
        assert point["stages.0.params.seed"] in range(1, 10)


def test_the_same_seed_and_the_same_tells_give_the_same_next_proposals():
    one = run_tpe(MIXED, mixed_score, seed=21, trials=24)
    two = run_tpe(MIXED, mixed_score, seed=21, trials=24)
    other = run_tpe(MIXED, mixed_score, seed=22, trials=24)
    assert one.trials == two.trials
    assert one.ask(4) == two.ask(4)
    assert canonical_json(one.trials) != canonical_json(other.trials)


def test_a_search_told_the_same_trials_in_another_process_proposes_the_same_points():
    # What a second driver does after a crash: a fresh search, told what the stored runs scored.
    first = run_tpe(MIXED, mixed_score, seed=8, trials=16)
    again = TpeSearch(MIXED, seed=8)
    for point, score in first.trials:
        again.tell(point, score)
    assert again.ask(5) == first.ask(5)


def test_the_state_round_trips_through_json_and_continues_identically():
    search = run_tpe(MIXED, mixed_score, seed=5, trials=12)
    search.ask(3)  # asked, not told yet: a batch still running
    state = json.loads(json.dumps(search.to_state()))
    assert set(state) == {"version", "space", "seed", "options", "max_points", "trials", "pending"}
    assert len(state["trials"]) == 12 and len(state["pending"]) == 3
    resumed = get_planner("tpe").search_from_state(state)
    assert resumed.to_state() == search.to_state()
    assert resumed.ask(4) == search.ask(4)


def test_a_damaged_or_unknown_state_is_a_plan_error():
    with pytest.raises(PlanError) as caught:
        TpeSearch.from_state({"version": 99})
    assert caught.value.field == "state"
    state = TpeSearch(MIXED, seed=1).to_state()
    del state["trials"]
    with pytest.raises(PlanError, match="damaged"):
        TpeSearch.from_state(state)


def test_tpe_never_repeats_a_point_and_stops_when_a_small_space_is_used_up():
    space = [{"path": MODEL, "values": ["a", "b", "c"]}, {"path": TEMP, "min": 0, "max": 0.3, "step": 0.1}]
    # Every score equal: TPE keeps proposing the points it knows; the search must move on anyway.
    search = run_tpe(space, lambda p: 0.5, seed=4, trials=100, batch=5, options={"n_startup_trials": 2})
    keys = [canonical_json(point) for point, _ in search.trials]
    assert len(keys) == len(set(keys)) == 12
    assert search.ask(4) == []


def test_points_still_waiting_for_a_score_are_not_proposed_again():
    space = [{"path": MODEL, "values": ["a", "b", "c", "d"]}]
    search = TpeSearch(space, seed=2)
    first = search.ask(3)
    assert len({canonical_json(p) for p in first + search.ask(3)}) == 4


def test_a_failed_run_is_tried_but_never_the_best():
    search = TpeSearch(MIXED, seed=1)
    failed, good = search.ask(2)
    search.tell(failed, None)
    search.tell(good, 0.4)
    assert search.best() == (good, 0.4)
    assert canonical_json(failed) not in {canonical_json(p) for p in search.ask(10)}


def test_a_later_tell_of_the_same_point_wins():
    search = TpeSearch(MIXED, seed=1)
    (point,) = search.ask(1)
    search.tell(point, 0.9)
    search.tell(point, 0.2)
    assert search.trials == [[point, 0.2]]


def test_plan_returns_the_first_batch_with_a_resumable_state():
    plan = get_planner("tpe", {"n_startup_trials": 3}).plan(MIXED, n=4, seed=3)
    assert len(plan) == 4 and plan.seed == 3 and plan.kind == "tpe"
    assert plan.state["pending"] == list(plan) and plan.state["options"] == {"n_startup_trials": 3}
    search = get_planner("tpe").search_from_state(plan.state)
    for point in plan:
        search.tell(point, mixed_score(point))
    assert len(search.ask(4)) == 4 and search.pending and not any(p in plan for p in search.pending)


def test_tpe_respects_max_points():
    search = TpeSearch(MIXED, seed=1, max_points=5)
    assert len(search.ask(4)) == 4
    assert len(search.ask(4)) == 1
    assert search.ask(4) == []


@pytest.mark.parametrize(("options", "field"), [
    ({"eta": 3}, "options.eta"),
    ({"n_startup_trials": -1}, "options.n_startup_trials"),
    ({"n_startup_trials": "10"}, "options.n_startup_trials"),
    ({"n_startup_trials": True}, "options.n_startup_trials"),
    ([], "options"),
])
def test_bad_options_are_plan_errors_naming_the_option(options, field):
    with pytest.raises(PlanError) as caught:
        get_planner("tpe", options)
    assert caught.value.field == field


def test_options_default_and_a_planner_without_options_refuses_any():
    assert get_planner("tpe").options == {"n_startup_trials": 10}
    with pytest.raises(PlanError) as caught:
        get_planner("grid", {"n_startup_trials": 3})
    assert caught.value.field == "options.n_startup_trials"


def test_tpe_needs_a_positive_first_batch():
    with pytest.raises(PlanError) as caught:
        get_planner("tpe").plan(MIXED, n=0, seed=1)
    assert caught.value.field == "n"

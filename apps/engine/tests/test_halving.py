import pytest

from apps.engine.planners import PlanError, get_planner
from apps.engine.planners.halving import HalvingSearch, rung_sizes

SPACE = [
    {"path": "stages.0.model", "values": ["a", "b", "c", "d"]},
    {"path": "stages.0.params.temperature", "values": [0.0, 0.5, 1.0]},
]
ITEMS = [f"i{n}" for n in range(12)]


def started(seed=7, **options):
    plan = get_planner("halving", options).plan(SPACE, seed=seed)
    search = HalvingSearch.from_state(plan.state)
    search.start(ITEMS)
    return search


def run_schedule(search, quality):
    """Drive the search to the end, scoring each trial by `quality(point)`; every rung's trials."""
    rungs = []
    while trials := search.ask():
        rungs.append(trials)
        for trial in trials:
            search.tell(trial.index, quality(trial.point))
    return rungs


def test_twelve_configurations_on_twelve_items_run_on_two_then_four_then_all_items():
    assert rung_sizes(items=12, configs=12, eta=3, min_items=2) == [2, 4, 12]
    rungs = run_schedule(started(), lambda point: point["stages.0.params.temperature"])
    assert [len(trials) for trials in rungs] == [12, 4, 2]
    assert [len(trials[0].sample_ids or ITEMS) for trials in rungs] == [2, 4, 12]
    assert rungs[-1][0].sample_ids is None  # the last rung runs on every item


def test_the_best_configuration_survives_to_the_last_rung():
    skill = {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.3}

    def quality(point):
        return skill[point["stages.0.model"]] - point["stages.0.params.temperature"] / 10

    search = started()
    rungs = run_schedule(search, quality)
    assert {"stages.0.model": "c", "stages.0.params.temperature": 0.0} in [t.point for t in rungs[-1]]
    assert search.best() == ({"stages.0.model": "c", "stages.0.params.temperature": 0.0}, 0.9)
    assert search.finished


def test_item_subsets_are_nested_seeded_prefixes_of_one_shuffle():
    first = [trials[0].sample_ids for trials in run_schedule(started(seed=1), lambda p: 0.5)[:-1]]
    again = [trials[0].sample_ids for trials in run_schedule(started(seed=1), lambda p: 0.5)[:-1]]
    other = [trials[0].sample_ids for trials in run_schedule(started(seed=2), lambda p: 0.5)[:-1]]
    assert first == again and first != other
    assert set(first[0]) <= set(first[1]) and first[1][:2] == first[0]


def test_the_schedule_costs_a_third_of_the_grid_when_the_cache_serves_earlier_rungs():
    search = started()
    grid_calls = 12 * 12
    fresh, seen = 0, {}
    for trials in run_schedule(search, lambda point: point["stages.0.params.temperature"]):
        for trial in trials:
            items = set(trial.sample_ids or ITEMS)
            fresh += len(items - seen.get(trial.index, set()))
            seen[trial.index] = items
    print(f"halving: {fresh} fresh calls of the grid's {grid_calls}")
    assert fresh <= 0.4 * grid_calls
    assert search.planned_calls(per_item=1) == 12 * 2 + 4 * 4 + 2 * 12


def test_failed_runs_rank_last_and_ties_keep_plan_order():
    search = started()
    rung0 = search.ask()
    for trial in rung0:
        search.tell(trial.index, None if trial.index == 0 else 0.5)
    promoted = [trial.index for trial in search.ask()]
    assert promoted == [1, 2, 3, 4]


def test_the_state_round_trips_midway_and_continues_identically():
    search = started()
    for trial in search.ask():
        search.tell(trial.index, trial.index / 20)
    copy = HalvingSearch.from_state(search.to_state())
    assert [t.point for t in copy.ask()] == [t.point for t in search.ask()]


def test_a_sampled_halving_draws_n_configurations_with_the_seed():
    plan = get_planner("halving").plan([{"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0}], n=9, seed=3)
    assert len(plan) == 0 and len(plan.state["configs"]) == 9
    again = get_planner("halving").plan([{"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0}], n=9, seed=3)
    assert plan.state["configs"] == again.state["configs"]


@pytest.mark.parametrize(("options", "field"), [
    ({"eta": 1}, "options.eta"), ({"eta": "3"}, "options.eta"), ({"min_items": 0}, "options.min_items"),
    ({"rungs": 2}, "options.rungs"),
])
def test_bad_options_are_refused_naming_the_option(options, field):
    with pytest.raises(PlanError) as caught:
        get_planner("halving", options)
    assert caught.value.field == field


def test_a_continuous_space_without_n_asks_for_n_and_one_configuration_is_refused():
    with pytest.raises(PlanError, match="give n"):
        get_planner("halving").plan([{"path": "stages.0.params.temperature", "min": 0.0, "max": 1.0}])
    with pytest.raises(PlanError, match="at least two"):
        get_planner("halving").plan([{"path": "stages.0.model", "values": ["a"]}])


def test_few_items_merge_rungs_and_min_items_raises_the_first_rung():
    assert rung_sizes(items=3, configs=12, eta=3, min_items=2) == [2, 3]
    assert rung_sizes(items=27, configs=27, eta=3, min_items=1) == [1, 3, 9, 27]
    assert rung_sizes(items=27, configs=27, eta=3, min_items=5) == [5, 9, 27]
    assert rung_sizes(items=10, configs=2, eta=3, min_items=2) == [10]

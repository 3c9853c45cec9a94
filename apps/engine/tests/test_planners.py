import json
import math
import statistics

import pytest

from apps.engine.hashing import canonical_json
from apps.engine.planners import PlanError, get_planner
from apps.engine.planners.guided import GuidedSearch

TEMP = "stages.1.params.temperature"
MODEL = "stages.0.model"


def grid(space, **kwargs):
    return get_planner("grid").plan(space, **kwargs)


def sample(space, **kwargs):
    return get_planner("random").plan(space, **kwargs)


def keys(points) -> list[str]:
    return [canonical_json(p) for p in points]


def test_unknown_kind_is_a_plan_error_on_the_kind_field():
    with pytest.raises(PlanError) as caught:
        get_planner("annealing")
    assert caught.value.field == "kind"
    assert "grid, random, guided" in str(caught.value)


def test_grid_of_point_one_to_point_nine_by_point_two_has_exactly_five_clean_values():
    points = grid([{"path": TEMP, "min": 0.1, "max": 0.9, "step": 0.2}])
    assert [p[TEMP] for p in points] == [0.1, 0.3, 0.5, 0.7, 0.9]
    assert "0.30000000000000004" not in json.dumps(points)


def test_grid_steps_keep_the_decimals_of_min_and_max_lands_within_float_noise():
    steps = grid([{"path": TEMP, "min": 0.15, "max": 0.55, "step": 0.1}])
    assert [p[TEMP] for p in steps] == [0.15, 0.25, 0.35, 0.45, 0.55]
    assert len(grid([{"path": TEMP, "min": 0, "max": 1, "step": 0.1}])) == 11
    assert [p[TEMP] for p in grid([{"path": TEMP, "min": 0, "max": 1, "step": 0.3}])] == [0, 0.3, 0.6, 0.9]


def test_grid_of_whole_numbers_gives_ints():
    points = grid([{"path": "stages.0.params.max_tokens", "min": 100, "max": 400, "step": 100}])
    values = [p["stages.0.params.max_tokens"] for p in points]
    assert values == [100, 200, 300, 400]
    assert all(type(v) is int for v in values)


def test_grid_is_the_product_in_axis_order_with_the_last_axis_fastest():
    points = grid([{"path": MODEL, "values": ["a", "b"]}, {"path": TEMP, "min": 0, "max": 1, "step": 0.5}])
    assert points == [
        {MODEL: "a", TEMP: 0}, {MODEL: "a", TEMP: 0.5}, {MODEL: "a", TEMP: 1},
        {MODEL: "b", TEMP: 0}, {MODEL: "b", TEMP: 0.5}, {MODEL: "b", TEMP: 1},
    ]
    assert points.space_size == 6


def test_an_empty_space_is_one_point_the_base_config():
    assert grid([]) == [{}]


def test_grid_over_the_limit_says_how_many_points_and_names_the_largest_axis():
    space = [{"path": MODEL, "values": list(range(120))}, {"path": TEMP, "min": 0, "max": 0.99, "step": 0.01}]
    with pytest.raises(PlanError) as caught:
        grid(space)
    assert str(caught.value).startswith("grid has 12,000 points; the limit is 10,000")
    assert caught.value.axis == MODEL
    assert len(grid(space, max_points=12_000)) == 12_000


def test_grid_refuses_a_range_without_a_step_naming_the_axis():
    with pytest.raises(PlanError) as caught:
        grid([{"path": MODEL, "values": ["a"]}, {"path": TEMP, "min": 0, "max": 1, "distribution": "uniform"}])
    assert TEMP in str(caught.value)
    assert caught.value.field == "parameter_space.1"


def test_malformed_axes_are_plan_errors_naming_the_axis():
    for axis in ({"path": TEMP, "values": []}, {"path": TEMP, "min": 1, "max": 0, "step": 0.1},
                 {"path": TEMP, "min": 0, "max": 1, "step": 0},
                 {"path": TEMP, "min": 0, "max": 1, "distribution": "beta"}):
        with pytest.raises(PlanError, match=TEMP):
            sample([axis], n=3)


def test_random_returns_n_points_and_the_same_seed_gives_the_same_points():
    space = [{"path": MODEL, "values": ["a", "b", "c"]}, {"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}]
    first = sample(space, n=25, seed=7)
    assert len(first) == 25
    assert first == sample(space, n=25, seed=7)
    assert first != sample(space, n=25, seed=8)
    assert first.seed == 7 and not first.short


def test_random_without_a_seed_records_the_seed_it_drew():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}]
    plan = sample(space, n=5)
    assert isinstance(plan.seed, int)
    assert sample(space, n=5, seed=plan.seed) == plan


def test_random_never_plans_the_same_point_twice():
    space = [{"path": MODEL, "values": ["a", "b", "c", "d"]}, {"path": TEMP, "min": 0, "max": 1, "step": 0.1}]
    points = sample(space, n=40, seed=1)
    assert len(set(keys(points))) == 40


def test_random_on_a_small_space_returns_all_of_it_and_says_so():
    space = [{"path": MODEL, "values": ["a", "b"]}, {"path": TEMP, "min": 0.1, "max": 0.5, "step": 0.2}]
    plan = sample(space, n=10, seed=3)
    assert len(plan) == 6 and len(set(keys(plan))) == 6
    assert plan.short and plan.space_size == 6
    assert plan.note == "The space has only 6 distinct points; planned all of them."
    assert sorted(keys(plan)) == sorted(keys(grid(space)))


def test_random_with_a_step_samples_grid_points():
    points = sample([{"path": TEMP, "min": 0.1, "max": 0.9, "step": 0.2}], n=4, seed=5)
    assert {p[TEMP] for p in points} <= {0.1, 0.3, 0.5, 0.7, 0.9}


def test_random_needs_a_positive_n_within_the_limit():
    space = [{"path": TEMP, "min": 0, "max": 1, "distribution": "uniform"}]
    for n in (None, 0, -1, 2.5):
        with pytest.raises(PlanError) as caught:
            sample(space, n=n)
        assert caught.value.field == "n"
    with pytest.raises(PlanError, match="limit is 100"):
        sample(space, n=101, max_points=100)


def test_log_uniform_stays_in_bounds_with_its_median_near_the_geometric_mean():
    space = [{"path": TEMP, "min": 0.001, "max": 1, "distribution": "log_uniform"}]
    values = [p[TEMP] for p in sample(space, n=2000, seed=11)]
    assert all(0.001 <= v <= 1 for v in values)
    geometric_mean = math.sqrt(0.001 * 1)
    assert geometric_mean / 2 < statistics.median(values) < geometric_mean * 2
    assert statistics.median(values) < 0.2  # a uniform draw would put it near 0.5


def test_uniform_samples_are_rounded_to_readable_precision():
    values = [p[TEMP] for p in sample([{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}], n=50, seed=2)]
    assert all(0 <= v <= 2 and len(repr(v)) <= 6 for v in values)


def test_int_distribution_and_whole_number_params_give_ints_in_bounds():
    points = sample([{"path": "stages.0.params.top_k", "min": 1, "max": 50, "distribution": "int"},
                     {"path": "stages.0.params.max_tokens", "min": 16, "max": 4096, "distribution": "log_uniform"}],
                    n=200, seed=4)
    for point in points:
        assert type(point["stages.0.params.top_k"]) is int and 1 <= point["stages.0.params.top_k"] <= 50
        assert type(point["stages.0.params.max_tokens"]) is int and 16 <= point["stages.0.params.max_tokens"] <= 4096


def objective(point: dict) -> float:
    return 1 - abs(point[TEMP] - 0.37)


def run_guided(space, score, *, seed: int, tells: int, batch: int = 1) -> GuidedSearch:
    search = GuidedSearch(space, seed=seed)
    told = 0
    while told < tells:
        points = search.ask(batch)
        if not points:
            break
        for point in points:
            search.tell(point, score(point))
            told += 1
    return search


def test_guided_finds_a_point_near_the_optimum_within_twenty_tells_for_most_seeds():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}]
    hits = sum(abs(run_guided(space, objective, seed=s, tells=20).best()[0][TEMP] - 0.37) < 0.1 for s in range(10))
    assert hits >= 8


def test_guided_beats_random_on_a_mixed_space():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"},
             {"path": MODEL, "values": ["a", "b", "c", "d"]},
             {"path": "stages.0.params.top_p", "min": 0.1, "max": 1, "step": 0.1}]

    def score(p):
        return 3 - abs(p[TEMP] - 0.37) - (p[MODEL] != "c") - abs(p["stages.0.params.top_p"] - 0.7)

    seeds = range(12)
    guided = statistics.mean(run_guided(space, score, seed=s, tells=30, batch=3).best()[1] for s in seeds)
    randomly = statistics.mean(max(score(p) for p in sample(space, n=30, seed=s)) for s in seeds)
    assert guided > randomly


def test_guided_never_repeats_a_point_and_stops_when_the_space_is_exhausted():
    space = [{"path": MODEL, "values": ["a", "b", "c"]}, {"path": TEMP, "min": 0.1, "max": 0.9, "step": 0.2}]
    search = run_guided(space, objective, seed=9, tells=100, batch=2)
    proposed = keys(t["point"] for t in search.trials)
    assert len(proposed) == 15 and len(set(proposed)) == 15
    assert search.exhausted and search.ask(5) == []


def test_guided_never_repeats_points_on_a_continuous_space():
    space = [{"path": TEMP, "min": 0.3, "max": 0.4, "distribution": "uniform"}]
    search = run_guided(space, objective, seed=1, tells=200, batch=5)
    proposed = keys(t["point"] for t in search.trials)
    assert len(proposed) == 200 == len(set(proposed))


def test_guided_does_not_repropose_points_still_waiting_for_a_score():
    space = [{"path": MODEL, "values": ["a", "b", "c", "d"]}]
    search = GuidedSearch(space, seed=0)
    first, second = search.ask(3), search.ask(3)
    assert len(first) == 3 and len(second) == 1
    assert len(set(keys(first + second))) == 4


def test_guided_is_deterministic_given_the_seed_and_the_tells():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}, {"path": MODEL, "values": ["a", "b"]}]
    one = run_guided(space, objective, seed=21, tells=15, batch=2)
    two = run_guided(space, objective, seed=21, tells=15, batch=2)
    other = run_guided(space, objective, seed=22, tells=15, batch=2)
    assert one.trials == two.trials
    assert one.trials != other.trials


def test_guided_state_round_trips_through_json_and_continues_identically():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}, {"path": MODEL, "values": ["a", "b"]}]
    search = run_guided(space, objective, seed=5, tells=8, batch=4)
    search.tell(search.ask(1)[0], None)
    restored = GuidedSearch.from_state(json.loads(json.dumps(search.to_state())))
    assert restored.to_state() == search.to_state()
    assert restored.ask(3) == search.ask(3)


def test_guided_counts_a_failed_run_as_tried_but_never_as_best():
    search = GuidedSearch([{"path": MODEL, "values": ["a", "b"]}], seed=0)
    a, b = search.ask(2)
    search.tell(a, None)
    search.tell(b, 0.2)
    assert search.best() == (b, 0.2)
    with pytest.raises(ValueError):
        search.tell(a, float("nan"))


def test_guided_plan_returns_the_first_batch_with_a_resumable_state():
    space = [{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}]
    plan = get_planner("guided").plan(space, n=4, seed=3)
    assert len(plan) == 4 and plan.seed == 3
    search = GuidedSearch.from_state(plan.state)
    for point in plan:
        search.tell(point, objective(point))
    assert len(search.ask(2)) == 2
    assert len(set(keys(t["point"] for t in search.trials))) == 6


def test_guided_respects_max_points():
    search = GuidedSearch([{"path": TEMP, "min": 0, "max": 2, "distribution": "uniform"}], seed=1, max_points=5)
    assert len(search.ask(10)) == 5
    assert search.ask(1) == [] and search.exhausted


BILLION = [{"path": f"stages.0.params.x{k}", "values": [f"v{v}" for v in range(10)]} for k in range(9)]
MIXED = [
    {"path": MODEL, "values": ["a", "b", 1, 1.0, True, None, [1, 2], {"k": 1}]},
    {"path": TEMP, "min": 0.05, "max": 1, "step": 0.05},
    {"path": "stages.0.params.seed", "min": 1, "max": 50, "distribution": "int"},
    {"path": "stages.0.params.max_tokens", "min": 16, "max": 4096, "distribution": "log_uniform"},
    {"path": "stages.0.params.top_p", "min": 0, "max": 1, "distribution": "uniform"},
]


def test_random_over_a_billion_point_space_gives_n_distinct_points_and_the_same_seed_the_same_points():
    plan = sample(BILLION, n=20_000, seed=5, max_points=100_000)
    assert len(plan) == 20_000 and len(set(keys(plan))) == 20_000
    assert plan.space_size == 10**9 and not plan.short and plan.note == ""
    assert plan == sample(BILLION, n=20_000, seed=5, max_points=100_000)
    assert plan[:100] != sample(BILLION, n=100, seed=6)


@pytest.mark.parametrize("space", [BILLION, MIXED, [{"path": TEMP, "min": 0, "max": 1e-9, "step": 1e-11}],
                                   [{"path": MODEL, "values": list(range(30))},
                                    {"path": "stages.0.params.seed", "min": 1, "max": 30, "distribution": "int"}]],
                         ids=["billion", "mixed", "tiny-step", "nearly-full"])
def test_random_plans_exactly_the_points_the_general_sampler_draws_so_old_seeds_replay(space):
    import random

    from apps.engine.planners.space import parse_space, sample_new_points

    for seed, n in ((1, 1), (2, 50), (3, 890), (4, 2000)):
        expected = sample_new_points(parse_space(space), n, random.Random(seed), set())
        assert list(sample(space, n=n, seed=seed)) == expected


def test_point_configs_equal_apply_point_and_its_json_for_awkward_values():
    from apps.engine.config_paths import apply_point
    from apps.engine.planners.configs import PointConfigs

    base = {"stages": [{"model": "m", "prompt_template": "Über {{ input }}", "params": {"temperature": 1.0}},
                       {"model": "n", "prompt_template": "x"}]}
    untouched = json.dumps(base)
    paths = ["stages.0.params.temperature", "stages.1.params.stop", "stages.0.model", "stages.1.params.x.y"]
    wrap = lambda config: {"config": config, "repeats": 2}  # noqa: E731
    configs = PointConfigs(base, paths, hash_wrap=wrap)
    values = [0.30000000000000004, 0.3, 1.0, 1, True, -0.0, 0.0, None, "née \"q\"", [1.0, "a"], {"b": 2, "a": 1.5}]
    for first in values:
        for second in values:
            point = dict(zip(paths, [first, second, second, first], strict=True))
            config = apply_point(base, point)
            assert configs.config(point) == config
            assert configs.texts(point) == (canonical_json(wrap(config)), json.dumps(config), json.dumps(point))
    reordered = {paths[1]: "s", paths[0]: 0.5, paths[2]: "m2", paths[3]: 7}
    assert configs.config(reordered) == apply_point(base, reordered)
    assert configs.texts(reordered)[1] == json.dumps(apply_point(base, reordered))
    assert json.dumps(base) == untouched


def test_point_configs_of_nested_paths_fall_back_to_apply_point():
    from apps.engine.config_paths import apply_point
    from apps.engine.planners.configs import PointConfigs

    base = {"stages": [{"model": "m", "params": {"temperature": 1}}]}
    paths = ["stages.0.params", "stages.0.params.temperature"]
    point = {paths[0]: {"top_p": 0.5}, paths[1]: 0.2}
    configs = PointConfigs(base, paths, hash_wrap=lambda c: c)
    assert configs.config(point) == apply_point(base, point) == {"stages": [{"model": "m", "params": {
        "top_p": 0.5, "temperature": 0.2}}]}
    assert configs.texts(point)[0] == canonical_json(apply_point(base, point))


def test_a_point_config_does_not_change_when_the_point_or_another_config_does():
    from apps.engine.planners.configs import PointConfigs

    base = {"stages": [{"model": "m", "params": {"stop": ["a"]}}]}
    configs = PointConfigs(base, ["stages.0.params.stop"], hash_wrap=lambda c: c)
    point = {"stages.0.params.stop": ["x", "y"]}
    config = configs.config(point)
    point["stages.0.params.stop"].append("z")
    configs.config({"stages.0.params.stop": ["q"]})["stages"][0]["params"]["stop"].append("w")
    assert config == {"stages": [{"model": "m", "params": {"stop": ["x", "y"]}}]}
    assert base == {"stages": [{"model": "m", "params": {"stop": ["a"]}}]}

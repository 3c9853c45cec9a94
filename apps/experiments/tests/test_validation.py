"""validate_experiment on its own: plain data in, normalized fields or dotted-path errors out."""

import copy
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.errors import InvalidInput
from apps.experiments.validation import validate_experiment

ENDPOINT = "8c2f9a5e-1111-4222-8333-944445555666"
LIMITS = {"endpoint_ids": {ENDPOINT}, "max_items": 5, "max_stages": 3, "max_template_chars": 500}


def config(**changes) -> dict:
    data = {
        "name": "Summaries",
        "sample_data": [{"id": "a", "input": "first"}, {"input": "second", "reference": "2nd"}],
        "pipeline_stages": [
            {"name": "draft", "endpoint": ENDPOINT, "model": "m1", "prompt_template": "Summarize {{ input }}"},
            {"endpoint": ENDPOINT, "model": "m2",
             "prompt_template": "Shorten {{ previous }} {{ stages.draft.output }}"},
        ],
        "scoring_config": {"scorers": [{"type": "length", "options": {"max": 100}}]},
        "parameter_space": [{"path": "stages.0.params.temperature", "min": 0, "max": 1, "step": 0.5}],
    }
    data.update(copy.deepcopy(changes))
    return data


def errors_for(data: dict) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        validate_experiment(data, **LIMITS)
    return caught.value.errors


def stage0(**changes) -> list[dict]:
    stages = config()["pipeline_stages"]
    stages[0].update(changes)
    return stages


def test_a_valid_config_is_normalized():
    out = validate_experiment(config(name="  Summaries  "), **LIMITS)
    assert out["name"] == "Summaries"
    assert [item["id"] for item in out["sample_data"]] == ["a", "1"]
    assert out["pipeline_stages"][1]["name"] == "stage2"
    assert out["pipeline_stages"][0]["system_prompt"] == ""
    assert out["pipeline_stages"][0]["params"] == {}
    assert out["scoring_config"] == {"scorers": [{"type": "length", "name": "length", "weight": 1, "options": {
        "unit": "chars", "min": None, "max": 100, "penalty": "linear", "tolerance": 0.5}}]}
    assert out["repeats"] == 1
    assert out["budget_tokens"] is None and out["budget_usd"] is None


def test_normalizing_twice_gives_the_same_result():
    once = validate_experiment(config(), **LIMITS)
    assert validate_experiment(once, **LIMITS) == once


def test_a_bare_string_item_is_shorthand_for_its_input():
    out = validate_experiment(config(sample_data=["hello", {"id": 5, "input": {"q": "x"}}]), **LIMITS)
    assert out["sample_data"] == [{"id": "1", "input": "hello"}, {"id": "5", "input": {"q": "x"}}]


def test_assigned_ids_skip_the_ones_already_taken():
    out = validate_experiment(config(sample_data=[{"input": "a"}, {"id": "1", "input": "b"}]), **LIMITS)
    assert [item["id"] for item in out["sample_data"]] == ["2", "1"]


def test_params_are_normalized_and_extras_pass_through():
    stages = stage0(params={"temperature": 1, "max_tokens": 64.0, "stop": ["\n"], "top_k": 40})
    out = validate_experiment(config(pipeline_stages=stages), **LIMITS)
    assert out["pipeline_stages"][0]["params"] == {"temperature": 1.0, "max_tokens": 64, "stop": ["\n"], "top_k": 40}


def test_budget_usd_becomes_a_decimal_with_four_places():
    assert validate_experiment(config(budget_usd=1.5), **LIMITS)["budget_usd"] == Decimal("1.5000")


def test_endpoint_ids_are_compared_case_insensitively():
    out = validate_experiment(config(pipeline_stages=stage0(endpoint=ENDPOINT.upper())), **LIMITS)
    assert out["pipeline_stages"][0]["endpoint"] == ENDPOINT


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"repeats": 0}, "repeats"),
        ({"repeats": True}, "repeats"),
        ({"budget_tokens": -1}, "budget_tokens"),
        ({"budget_usd": "lots"}, "budget_usd"),
        ({"sample_data": {"input": "x"}}, "sample_data"),
        ({"sample_data": ["x"] * 6}, "sample_data"),
        ({"sample_data": ["x", "y", "z", 42]}, "sample_data.3"),
        ({"sample_data": [{"id": "a"}]}, "sample_data.0.input"),
        ({"sample_data": [{"input": 3}]}, "sample_data.0.input"),
        ({"sample_data": [{"id": "a", "input": "x"}, {"id": "a", "input": "y"}]}, "sample_data.1.id"),
        ({"sample_data": [{"input": "x", "extra": 1}]}, "sample_data.0.extra"),
        ({"pipeline_stages": []}, "pipeline_stages"),
        ({"pipeline_stages": stage0() * 2}, "pipeline_stages"),
        ({"pipeline_stages": stage0(endpoint="not-mine")}, "pipeline_stages.0.endpoint"),
        ({"pipeline_stages": stage0(model="")}, "pipeline_stages.0.model"),
        ({"pipeline_stages": stage0(name="1st")}, "pipeline_stages.0.name"),
        ({"pipeline_stages": stage0(name="stage2")}, "pipeline_stages.1.name"),
        ({"pipeline_stages": stage0(prompt_template="")}, "pipeline_stages.0.prompt_template"),
        ({"pipeline_stages": stage0(prompt_template="x" * 501)}, "pipeline_stages.0.prompt_template"),
        ({"pipeline_stages": stage0(prompt_template="{{ oops")}, "pipeline_stages.0.prompt_template"),
        ({"pipeline_stages": stage0(params={"temperature": 3})}, "pipeline_stages.0.params.temperature"),
        ({"pipeline_stages": stage0(params={"max_tokens": 0})}, "pipeline_stages.0.params.max_tokens"),
        ({"pipeline_stages": stage0(params={"top_p": "high"})}, "pipeline_stages.0.params.top_p"),
        ({"pipeline_stages": stage0(params={"stop": [1]})}, "pipeline_stages.0.params.stop"),
        ({"pipeline_stages": stage0(params={"seed": 10**30})}, "pipeline_stages.0.params.seed"),
        ({"pipeline_stages": stage0(params={"top_k": float("nan")})}, "pipeline_stages.0.params.top_k"),
        ({"pipeline_stages": stage0(params={"response_format": "json"})}, "pipeline_stages.0.params.response_format"),
        ({"pipeline_stages": stage0(params={"stream": True})}, "pipeline_stages.0.params.stream"),
        ({"pipeline_stages": stage0(system_prompt="{{ previous }}")}, "pipeline_stages.0.system_prompt"),
        ({"pipeline_stages": stage0(prompt_template="{{ stages.x }}")}, "pipeline_stages.0.prompt_template"),
        ({"pipeline_stages": stage0(prompt_template="{{ item.reference }}")}, "pipeline_stages.0.prompt_template"),
        ({"scoring_config": []}, "scoring_config"),
        ({"scoring_config": {"scorers": [{"type": "vibes"}]}}, "scoring_config.scorers.0.type"),
        ({"scoring_config": {"scorers": [{"type": "length", "weight": -1}]}}, "scoring_config.scorers.0.weight"),
        ({"scoring_config": {"scorers": [{"type": "length", "weight": "1"}]}}, "scoring_config.scorers.0.weight"),
        ({"scoring_config": {"scorers": [{"type": "length", "weight": 0}]}}, "scoring_config.scorers"),
        ({"scoring_config": {"scorers": [{"type": "length"}, {"type": "length"}]}}, "scoring_config.scorers.1.name"),
        ({"parameter_space": {"path": "stages.0.model"}}, "parameter_space"),
        ({"parameter_space": [{"path": "stages.0.colour", "values": [1]}]}, "parameter_space.0.path"),
        ({"parameter_space": [{"path": "stages.9.model", "values": ["a"]}]}, "parameter_space.0.path"),
        ({"parameter_space": [{"path": "stages.0.params.top_k", "values": [1]}]}, "parameter_space.0.path"),
        ({"parameter_space": [{"path": "stages.0.model", "values": []}]}, "parameter_space.0.values"),
        ({"parameter_space": [{"path": "stages.0.model"}]}, "parameter_space.0"),
        ({"parameter_space": [{"path": "stages.0.endpoint", "values": ["elsewhere"]}]}, "parameter_space.0.values.0"),
        ({"parameter_space": [{"path": "stages.0.params.temperature", "values": [5]}]}, "parameter_space.0.values.0"),
        ({"parameter_space": [{"path": "stages.0.prompt_template", "values": ["{{ previous }}"]}]},
         "parameter_space.0.values.0"),
        ({"parameter_space": [{"path": "stages.0.params.temperature", "min": "a", "max": 1, "step": 0.1}]},
         "parameter_space.0.min"),
        ({"parameter_space": [{"path": "stages.0.params.top_p", "min": 1, "max": 0, "step": 0.1}]},
         "parameter_space.0.min"),
        ({"parameter_space": [{"path": "stages.0.params.top_p", "min": 0, "max": 1, "step": 0}]},
         "parameter_space.0.step"),
        ({"parameter_space": [{"path": "stages.0.params.top_p", "min": 0, "max": 1, "step": -0.1}]},
         "parameter_space.0.step"),
        ({"parameter_space": [{"path": "stages.0.params.max_tokens", "min": 1, "max": 100000, "step": 1}]},
         "parameter_space.0.step"),
        ({"parameter_space": [{"path": "stages.0.params.temperature", "min": 0, "max": 5, "step": 1}]},
         "parameter_space.0"),
        ({"parameter_space": [{"path": "stages.0.model", "min": 0, "max": 1, "step": 1}]}, "parameter_space.0.path"),
        ({"parameter_space": [{"path": "stages.0.params.temperature", "min": 0.5, "max": 1.5, "distribution": "int"}]},
         "parameter_space.0"),
        ({"parameter_space": [{"path": "stages.0.params.max_tokens", "min": 1, "max": 9, "step": 0.5}]},
         "parameter_space.0.step"),
        ({"parameter_space": [{"path": "stages.0.params.top_p", "min": 0, "max": 1, "distribution": "normal"}]},
         "parameter_space.0.distribution"),
        ({"parameter_space": [{"path": "stages.0.params.top_p", "min": 0, "max": 1, "distribution": "log_uniform"}]},
         "parameter_space.0.min"),
        ({"parameter_space": [{"path": "stages.0.model", "values": ["a"]},
                              {"path": "stages.0.model", "values": ["b"]}]},
         "parameter_space.1.path"),
    ],
)
def test_each_bad_field_is_reported_by_its_path(changes, field):
    assert field in errors_for(config(**changes))


def test_a_template_variable_missing_from_an_item_names_stage_variable_and_item():
    stages = stage0(prompt_template="{{ input }} vs {{ reference }}")
    messages = errors_for(config(pipeline_stages=stages))["pipeline_stages.0.prompt_template"]
    assert messages == ["stage 'draft': variable 'reference' is missing from item 'a'"]


def test_a_variable_no_item_has_is_unknown():
    messages = errors_for(config(pipeline_stages=stage0(prompt_template="{{ nope }}")))
    assert messages["pipeline_stages.0.prompt_template"] == [
        "stage 'draft': unknown variable 'nope' (no sample item has it)"
    ]


def test_previous_in_the_first_stage_is_an_error():
    messages = errors_for(config(pipeline_stages=stage0(prompt_template="{{ previous }}")))
    assert messages["pipeline_stages.0.prompt_template"] == [
        "stage 'draft': 'previous' is only available after the first stage"
    ]


def test_a_stage_may_only_read_earlier_stages():
    stages = config()["pipeline_stages"]
    stages[1]["prompt_template"] = "{{ stages.stage2.output }} {{ stages.later.output }}"
    messages = errors_for(config(pipeline_stages=stages))["pipeline_stages.1.prompt_template"]
    assert any("'stages.stage2' is not an earlier stage" in m for m in messages)
    assert any("'stages.later' is not an earlier stage" in m for m in messages)


def test_vars_and_dict_inputs_provide_template_variables():
    data = config(
        sample_data=[{"input": {"q": "a"}, "vars": {"tone": "x"}}, {"input": {"q": "b"}, "vars": {"tone": "y"}}],
        pipeline_stages=stage0(prompt_template="{{ q }} {{ tone }} {{ item.vars.tone }}"),
    )
    assert validate_experiment(data, **LIMITS)["sample_data"][1]["id"] == "2"


def test_without_sample_items_templates_are_not_checked_against_items():
    data = config(sample_data=[], pipeline_stages=stage0(prompt_template="{{ anything }}"))
    assert validate_experiment(data, **LIMITS)["sample_data"] == []


def test_a_parameter_set_in_the_stage_can_be_swept():
    data = config(
        pipeline_stages=stage0(params={"top_k": 40}),
        parameter_space=[{"path": "stages.0.params.top_k", "min": 10, "max": 50, "step": 10}],
    )
    assert validate_experiment(data, **LIMITS)["parameter_space"] == [
        {"path": "stages.0.params.top_k", "min": 10, "max": 50, "step": 10}
    ]


def test_range_axes_accept_a_step_or_a_distribution():
    space = [
        {"path": "stages.0.params.temperature", "min": 0.1, "max": 1.5, "distribution": "log_uniform"},
        {"path": "stages.0.params.max_tokens", "min": 16, "max": 512, "distribution": "int"},
        {"path": "stages.01.model", "values": ["m1", "m3"]},
    ]
    out = validate_experiment(config(parameter_space=space), **LIMITS)["parameter_space"]
    assert out[2]["path"] == "stages.1.model"
    assert out[1] == {"path": "stages.0.params.max_tokens", "min": 16, "max": 512, "distribution": "int"}


def test_all_errors_are_reported_at_once():
    data = config(name="", repeats=500, scoring_config={"scorers": [{"type": "vibes"}]})
    assert {"name", "repeats", "scoring_config.scorers.0.type"} <= set(errors_for(data))


def test_a_non_object_is_rejected():
    with pytest.raises(InvalidInput) as caught:
        validate_experiment(["not", "an", "object"], **LIMITS)
    assert "non_field_errors" in caught.value.errors


def test_a_range_without_a_step_is_sampled_from_its_default_distribution():
    space = [{"path": "stages.0.params.temperature", "min": 0, "max": 1}]
    assert validate_experiment(config(parameter_space=space), **LIMITS)["parameter_space"] == [
        {"path": "stages.0.params.temperature", "min": 0, "max": 1}
    ]


def test_nan_and_infinity_anywhere_are_rejected_by_path():
    data = config(sample_data=[{"input": "x", "reference": float("nan")}],
                  scoring_config={"scorers": [{"type": "length", "options": {"max": float("inf")}}]})
    errors = errors_for(data)
    assert "sample_data.0.reference" in errors
    assert "scoring_config.scorers.0.options.max" in errors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
field_values = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values, "sample_data": json_values, "pipeline_stages": json_values, "repeats": json_values,
        "scoring_config": json_values, "parameter_space": json_values, "budget_usd": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(data=field_values, valid_base=st.booleans())
def test_any_json_either_validates_or_raises_experiment_invalid(data, valid_base):
    body = {**config(), **data} if valid_base else data
    try:
        validate_experiment(body, **LIMITS)
    except InvalidInput as exc:
        assert exc.errors and all(isinstance(messages, list) for messages in exc.errors.values())


def test_experiments_accept_exactly_the_registered_scorer_types():
    from apps.engine.scorers import get_scorer_class, scorer_types
    from apps.engine.scorers.base import Scorer
    from apps.experiments.validation import KNOWN_SCORER_TYPES

    assert set(scorer_types()) == set(KNOWN_SCORER_TYPES)
    for kind in scorer_types():
        cls = get_scorer_class(kind)
        assert issubclass(cls, Scorer) and cls.type == kind

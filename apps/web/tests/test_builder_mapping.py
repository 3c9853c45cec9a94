"""The builder's form ↔ experiment data mapping, row actions and error routing (no database)."""

from __future__ import annotations

from types import SimpleNamespace

from apps.web.builder import (
    draft_act,
    draft_data,
    draft_from_experiment,
    draft_from_post,
    draft_json_errors,
    draft_new,
    errors_route,
)

STORED = SimpleNamespace(
    name="Tone", description="Line one\nline two", repeats=3, budget_tokens=None, budget_usd=None,
    sample_data=[{"id": "1", "input": "hi"}],
    pipeline_stages=[{"name": "first", "endpoint": "e1", "model": "m", "system_prompt": "",
                      "prompt_template": "{{ input }}",
                      "params": {"temperature": 0.5, "seed": 7, "stop": ["\n"], "logit_bias": {"1": 2}}}],
    scoring_config={"scorers": [{"type": "length", "name": "short", "weight": 0.5, "options": {"max": 20}}]},
    parameter_space=[{"path": "stages.0.params.temperature", "values": [0.0, 0.5, 1.0]},
                     {"path": "stages.0.model", "values": ["a", "b, c"]},
                     {"path": "stages.0.prompt_template", "values": ["{{ input }}", "Say: {{ input }}\nNow."]},
                     {"path": "stages.0.params.seed", "min": 1, "max": 9, "step": 2},
                     {"path": "stages.0.params.top_p", "min": 0.1, "max": 0.9, "distribution": "uniform"}],
)


def as_post(draft) -> dict:
    post = {name: value for name, value in draft.fields.items()}
    for section in ("stage", "scorer", "axis"):
        for index in range(len(draft.rows(section))):
            post.update(draft.row_data(section, index))
    return post


def test_a_stored_experiment_maps_back_to_the_same_data():
    draft = draft_from_experiment(STORED)
    data = draft_data(draft)
    assert data["pipeline_stages"] == STORED.pipeline_stages
    assert data["scoring_config"] == STORED.scoring_config
    assert data["parameter_space"] == STORED.parameter_space
    assert (data["name"], data["description"], data["repeats"]) == ("Tone", "Line one\nline two", 3)
    assert data["budget_tokens"] is None and data["budget_usd"] is None


def test_the_posted_text_of_a_stored_experiment_gives_the_same_data():
    posted = draft_from_post(as_post(draft_from_experiment(STORED)))
    posted.samples = STORED.sample_data
    assert draft_data(posted)["parameter_space"] == STORED.parameter_space
    assert draft_data(posted)["pipeline_stages"] == STORED.pipeline_stages


def test_values_parse_as_numbers_only_where_the_field_is_numeric():
    post = {"stage-0-name": "s", "axis-0-path": "stages.0.params.temperature", "axis-0-values": "0.1, 1\n2",
            "axis-1-path": "stages.0.model", "axis-1-values": "gpt-4o\n  7  \n\n", "axis-2-path": "stages.0.params.k",
            "axis-2-values": "3\nhigh"}
    axes = draft_data(draft_from_post(post))["parameter_space"]
    assert axes == [{"path": "stages.0.params.temperature", "values": [0.1, 1, 2]},
                    {"path": "stages.0.model", "values": ["gpt-4o", "7"]},
                    {"path": "stages.0.params.k", "values": [3, "high"]}]


def test_unparsable_text_goes_to_the_service_as_is_and_blank_numbers_are_left_out():
    post = {"stage-0-name": "", "stage-0-temperature": "warm", "stage-0-max_tokens": "", "stage-0-extra": "{oops",
            "scorer-0-type": "keyword", "scorer-0-weight": "", "repeats": "", "budget_usd": "lots"}
    draft = draft_from_post(post)
    data = draft_data(draft)
    assert data["pipeline_stages"][0]["params"] == "{oops" and "name" not in data["pipeline_stages"][0]
    assert data["scoring_config"]["scorers"] == [{"type": "keyword", "options": {}}]
    assert "repeats" not in data and data["budget_usd"] == "lots"
    assert list(draft_json_errors(draft)) == ["pipeline_stages.0.params"]


def test_textarea_line_breaks_from_a_browser_are_stored_as_newlines():
    draft = draft_from_post({"stage-0-prompt_template": "a\r\nb", "description": "x\r\ny"})
    assert draft_data(draft)["pipeline_stages"][0]["prompt_template"] == "a\nb"
    assert draft_data(draft)["description"] == "x\ny"


def test_row_actions_add_move_and_remove_rows():
    draft = draft_new()
    assert draft_act(draft, "stage-add") and [r["name"] for r in draft.stage] == ["stage1", "stage2"]
    draft.axis = [{**dict.fromkeys(("mode", "values", "min", "max", "step", "distribution"), ""),
                   "path": "stages.1.model"}]
    assert draft_act(draft, "stage-down-0") and [r["name"] for r in draft.stage] == ["stage2", "stage1"]
    assert draft.axis[0]["path"] == "stages.0.model"
    assert draft_act(draft, "stage-remove-5") and len(draft.stage) == 2  # out of range: nothing happens
    assert draft_act(draft, "scorer-add") and draft.scorer[0]["weight"] == "1"
    assert not draft_act(draft, "save") and not draft_act(draft, "")


def test_service_errors_are_routed_to_their_fields():
    routed = errors_route({
        "name": ["This field is required."],
        "pipeline_stages.1.prompt_template": ["bad"],
        "pipeline_stages.0.params.temperature": ["hot"],
        "pipeline_stages.0.params.logit_bias": ["odd"],
        "pipeline_stages.2": ["Each stage must be an object."],
        "scoring_config.scorers.0.options.keywords": ["empty"],
        "scoring_config.scorers": ["At least one scorer needs a weight above 0."],
        "parameter_space.0.values.2": ["Must be a number."],
        "sample_data.3.input": ["required"],
        "project": ["Unknown project."],
    })
    assert routed.top == {"name": ["This field is required."]}
    assert routed.row("stage", 1) == {"prompt_template": ["bad"]}
    assert routed.row("stage", 0) == {"temperature": ["hot"], "extra": ["logit_bias: odd"]}
    assert routed.row("stage", 2) == {None: ["Each stage must be an object."]}
    assert routed.row("scorer", 0) == {"options": ["keywords: empty"]}
    assert routed.sections == {"scorer": ["At least one scorer needs a weight above 0."]}
    assert routed.row("axis", 0) == {"values": ["value 3: Must be a number."]}
    assert routed.samples == {"sample_data.3.input": ["required"]}
    assert routed.other == ["project: Unknown project."]

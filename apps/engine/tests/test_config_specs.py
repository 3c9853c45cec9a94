"""Typed experiment specs: built by the checks from valid input, and read leniently from stored rows."""

from __future__ import annotations

import pytest

from apps.engine.config import (
    ConfigInvalid,
    config_check,
    experiment_spec_from_stored,
    stored_endpoint_refs,
)

ENDPOINT = "8c2f9a5e-1111-4222-8333-944445555666"
JUDGE_ENDPOINT = "8c2f9a5e-1111-4222-8333-944445555777"
LIMITS = {"endpoint_ids": {ENDPOINT, JUDGE_ENDPOINT}, "max_items": 5, "max_stages": 3, "max_template_chars": 500}
STAGES = [{"name": "draft", "endpoint": ENDPOINT, "model": "m1", "prompt_template": "Summarize {{ input }}",
           "params": {"temperature": 0.5}}]


def config(**changes) -> dict:
    return {"name": "Summaries", "sample_data": [{"id": "a", "input": "first"}], "pipeline_stages": STAGES,
            "scoring_config": {"scorers": [
                {"type": "length", "options": {"max": 100}, "weight": 2},
                {"type": "llm_judge", "name": "quality", "options": {"endpoint": JUDGE_ENDPOINT, "model": "j"}},
                {"type": "human", "weight": 0}]},
            "parameter_space": [{"path": "stages.0.endpoint", "values": [ENDPOINT]},
                                {"path": "stages.0.params.temperature", "min": 0, "max": 1, "step": 0.5}],
            **changes}


def test_a_valid_config_gives_typed_stages_scorers_and_axes():
    spec = config_check(config(), **LIMITS).spec
    assert [(s.name, s.endpoint, s.model, dict(s.params)) for s in spec.stages] == [
        ("draft", ENDPOINT, "m1", {"temperature": 0.5})]
    assert spec.scoring.names() == ["length", "quality", "human"]
    assert spec.scoring.weights() == {"length": 2.0, "quality": 1.0, "human": 0.0}
    assert [s.name for s in spec.scoring.human()] == ["human"]
    assert spec.scoring.named("quality").options["scale_max"] == 10.0  # normalized, defaults filled in
    assert [(a.path, a.values, a.step) for a in spec.space] == [
        ("stages.0.endpoint", (ENDPOINT,), None), ("stages.0.params.temperature", None, 0.5)]
    assert spec.endpoint_ids() == {ENDPOINT, JUDGE_ENDPOINT}


def test_only_computed_scorers_get_a_ready_scorer():
    spec = config_check(config(), **LIMITS).spec
    assert [s.scorer is not None for s in spec.scoring] == [True, True, False]


def test_errors_are_keyed_by_path_across_sections():
    bad = config(pipeline_stages=[{**STAGES[0], "prompt_template": ""}],
                 scoring_config={"scorers": [{"type": "python", "options": {"code": "x"}}]})
    with pytest.raises(ConfigInvalid) as caught:
        config_check(bad, **LIMITS)
    assert caught.value.errors["pipeline_stages.0.prompt_template"] == ["This field is required."]
    assert "only admins" in caught.value.errors["scoring_config.scorers.0.type"][0]


def test_a_stored_scorer_that_no_longer_validates_keeps_its_place_and_says_why():
    spec = experiment_spec_from_stored(
        pipeline_stages=STAGES, parameter_space=[],
        scoring_config={"scorers": [{"type": "llm_judge", "name": "quality", "weight": 2, "options": {}},
                                    {"type": "sentiment", "weight": 1}, {"type": "keyword", "weight": -1,
                                                                         "options": {"keywords": ["a"]}}]})
    judge, unknown, negative = spec.scoring
    assert (judge.name, judge.weight, judge.scorer) == ("quality", 2.0, None)
    assert judge.problem == "endpoint: This option is required."
    assert unknown.broken and "unknown scorer type 'sentiment'" in unknown.problem
    assert negative.broken and negative.weight == 0.0
    assert spec.scoring.endpoint_ids() == set()


def test_stored_rows_of_any_shape_never_raise():
    for junk in (None, "text", 5, [1, "x", None], {"scorers": "no"}, {"scorers": [None, 3]}):
        spec = experiment_spec_from_stored(pipeline_stages=junk, scoring_config=junk, parameter_space=junk)
        assert spec.stages == () and len(spec.scoring) == 0 and spec.space == ()


def test_endpoint_references_of_a_stored_row_keep_their_paths_even_for_a_broken_scorer():
    refs = list(stored_endpoint_refs(
        pipeline_stages=["junk", {"endpoint": ENDPOINT}],
        parameter_space=[{"path": "stages.1.endpoint", "values": [None, ENDPOINT]},
                         {"path": "stages.1.params.endpoint", "values": ["not-an-endpoint"]}],
        scoring_config={"scorers": [{"type": "llm_judge", "options": {"endpoint": JUDGE_ENDPOINT}}]}))
    assert refs == [("pipeline_stages.1.endpoint", ENDPOINT), ("parameter_space.0.values.1", ENDPOINT),
                    ("scoring_config.scorers.0.options.endpoint", JUDGE_ENDPOINT)]

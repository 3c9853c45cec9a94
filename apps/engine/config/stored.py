"""Typed specs from stored rows, which may predate today's rules: the one place that decides the fallback.

Nothing here raises on old data. A stage or axis that is not an object is left out; a scorer whose
type is unknown or whose options no longer validate keeps its name and weight (so summaries and
ratings still line up) and carries the reason in `problem`: it scores nothing and its outputs get
errored scores saying why, until the owner fixes the config.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.engine import params as P
from apps.engine.config.scorers import significance_alpha
from apps.engine.config.space import axis_spec
from apps.engine.config.specs import ExperimentSpec, ScorerSpec, ScoringSpec, StageSpec
from apps.engine.scorers import SCORERS, validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid


def _dicts(raw: Any) -> list[dict]:
    return [entry for entry in raw if isinstance(entry, dict)] if isinstance(raw, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def stored_stages(raw: Any) -> tuple[StageSpec, ...]:
    return tuple(
        StageSpec(name=_text(stage.get("name")) or f"stage{index + 1}",
                  endpoint=str(stage["endpoint"]) if stage.get("endpoint") else None,
                  model=_text(stage.get("model")), prompt_template=_text(stage.get("prompt_template")),
                  system_prompt=_text(stage.get("system_prompt")),
                  params=dict(stage["params"]) if isinstance(stage.get("params"), dict) else {})
        for index, stage in enumerate(_dicts(raw))
    )


def stored_scorer(entry: dict) -> ScorerSpec:
    kind = entry.get("type")
    kind = kind if isinstance(kind, str) else str(kind)
    name = entry.get("name") if isinstance(entry.get("name"), str) and entry.get("name") else kind
    weight = entry.get("weight", 1)
    weight_ok = P.is_number(weight) and weight >= 0
    problem = "" if weight_ok else "weight: Must be a number ≥ 0."
    raw_options = entry.get("options")
    options = dict(raw_options) if isinstance(raw_options, dict) else {}
    try:
        options = validate_scorer_options(kind, raw_options)
    except OptionsInvalid as exc:
        problem = problem or str(exc)
    return ScorerSpec(type=kind, name=name, weight=float(weight) if weight_ok else 0.0,
                      options=options, problem=problem)


def stored_scoring(raw: Any) -> ScoringSpec:
    scorers = raw.get("scorers") if isinstance(raw, dict) else None
    return ScoringSpec(tuple(stored_scorer(entry) for entry in _dicts(scorers)), alpha=significance_alpha(raw))


def stored_space(raw: Any) -> tuple:
    return tuple(axis_spec(axis) for axis in _dicts(raw))


def experiment_spec_from_stored(*, pipeline_stages: Any, scoring_config: Any, parameter_space: Any) -> ExperimentSpec:
    """The typed spec of a stored experiment; never raises, whatever the row holds."""
    return ExperimentSpec(stages=stored_stages(pipeline_stages), scoring=stored_scoring(scoring_config),
                          space=stored_space(parameter_space))


def stored_endpoint_refs(
    *, pipeline_stages: Any, parameter_space: Any, scoring_config: Any,
) -> Iterator[tuple[str, str]]:
    """(field path, endpoint id) for every endpoint a stored experiment names, whatever its shape.

    Paths index the stored lists as they are (a malformed entry keeps its place), and a scorer's
    endpoint counts even when its other options no longer validate: deleting it must still be refused.
    """
    for index, stage in enumerate(pipeline_stages if isinstance(pipeline_stages, list) else []):
        if isinstance(stage, dict) and stage.get("endpoint"):
            yield f"pipeline_stages.{index}.endpoint", str(stage["endpoint"])
    for index, entry in enumerate(parameter_space if isinstance(parameter_space, list) else []):
        axis = axis_spec(entry) if isinstance(entry, dict) else None
        for position, value in enumerate(axis.values or () if axis and axis.sets_endpoint else ()):
            if value:
                yield f"parameter_space.{index}.values.{position}", str(value)
    scorers = scoring_config.get("scorers") if isinstance(scoring_config, dict) else None
    for index, scorer in enumerate(scorers if isinstance(scorers, list) else []):
        kind = scorer.get("type") if isinstance(scorer, dict) else None
        options = scorer.get("options") if isinstance(scorer, dict) else None
        endpoint = SCORERS.get(kind).endpoint_of(options) if kind in SCORERS and isinstance(options, dict) else None
        if endpoint:
            yield f"scoring_config.scorers.{index}.options.endpoint", endpoint

"""An experiment's configuration as typed, frozen objects: what every reader uses instead of raw JSON.

The validators build these from checked input; `stored.py` builds them from stored rows, which may
predate today's rules. A scorer spec whose stored options no longer validate carries the reason in
`problem` and scores nothing (its outputs get errored scores); readers never re-parse options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from apps.engine.scorers import SCORERS
from apps.engine.scorers.base import Scorer

ENDPOINT_FIELD = "endpoint"
# The significance level of paired comparisons (docs/significance.md); `scoring_config.significance.alpha`.
DEFAULT_ALPHA = 0.05
MAX_ALPHA = 0.5


@dataclass(frozen=True)
class StageSpec:
    name: str
    endpoint: str | None
    model: str
    prompt_template: str
    system_prompt: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScorerSpec:
    type: str
    name: str
    weight: float
    options: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""  # why a stored scorer no longer validates ("" when it does)

    @property
    def cls(self) -> type[Scorer] | None:
        return SCORERS.get(self.type) if self.type in SCORERS else None

    @property
    def human(self) -> bool:
        return self.cls is not None and self.cls.human

    @property
    def endpoint(self) -> str | None:
        """The owner's endpoint this scorer calls (judges, embeddings), if any."""
        cls = self.cls
        return cls.endpoint_of(self.options) if cls is not None and not self.problem else None

    @cached_property
    def scorer(self) -> Scorer | None:
        """The ready scorer; None for ratings people enter and for a stored scorer with a problem."""
        cls = self.cls
        if cls is None or self.problem or not cls.computed:
            return None
        return cls(dict(self.options))

    @property
    def broken(self) -> bool:
        return bool(self.problem)


@dataclass(frozen=True)
class ScoringSpec:
    scorers: tuple[ScorerSpec, ...] = ()
    alpha: float = DEFAULT_ALPHA  # significance level of "new best" and "indistinguishable from #1"

    def __iter__(self):
        return iter(self.scorers)

    def __len__(self) -> int:
        return len(self.scorers)

    def names(self) -> list[str]:
        return [scorer.name for scorer in self.scorers]

    def weights(self) -> dict[str, float]:
        return {scorer.name: scorer.weight for scorer in self.scorers}

    def named(self, name: str) -> ScorerSpec | None:
        return next((scorer for scorer in self.scorers if scorer.name == name), None)

    def human(self) -> list[ScorerSpec]:
        return [scorer for scorer in self.scorers if scorer.human]

    @property
    def weighted(self) -> bool:
        """Some scorer counts towards the weighted score (what guided sweeps steer by)."""
        return any(scorer.weight > 0 for scorer in self.scorers)

    def endpoint_ids(self) -> set[str]:
        return {scorer.endpoint for scorer in self.scorers if scorer.endpoint}


@dataclass(frozen=True)
class AxisSpec:
    """One parameter-space axis: explicit `values`, or a range (`min`, `max`, `step` or a distribution)."""

    path: str
    values: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    distribution: str | None = None

    @property
    def field(self) -> str:
        """What the axis sets in its stage: model, endpoint, prompt_template, params.<name> …"""
        return self.path.split(".", 2)[2] if self.path.count(".") >= 2 else ""

    @property
    def sets_endpoint(self) -> bool:
        return self.field == ENDPOINT_FIELD


@dataclass(frozen=True)
class ExperimentSpec:
    stages: tuple[StageSpec, ...] = ()
    scoring: ScoringSpec = ScoringSpec()
    space: tuple[AxisSpec, ...] = ()

    def endpoint_ids(self) -> set[str]:
        """Every endpoint the configuration names: stages, endpoint axes' values and scorers."""
        return (stage_endpoint_ids(self.stages) | space_endpoint_ids(self.space)) | self.scoring.endpoint_ids()


def stage_endpoint_ids(stages: tuple[StageSpec, ...]) -> set[str]:
    return {stage.endpoint for stage in stages if stage.endpoint}


def space_endpoint_ids(space: tuple[AxisSpec, ...]) -> set[str]:
    return {str(value) for axis in space if axis.sets_endpoint for value in axis.values or ()
            if value is not None and not isinstance(value, (dict, list))}

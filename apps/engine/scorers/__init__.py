"""Scorers: type → class, imported on first use (a new scorer is a new module plus one line here)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from apps.engine.scorers.base import OptionsInvalid, Scorer

SCORERS = {
    "embedding_similarity": "apps.engine.scorers.embedding.EmbeddingSimilarityScorer",
    "length": "apps.engine.scorers.length.LengthScorer",
    "format": "apps.engine.scorers.format_check.FormatScorer",
    "keyword": "apps.engine.scorers.keyword.KeywordScorer",
    "human": "apps.engine.scorers.human.HumanScorer",
    "llm_judge": "apps.engine.scorers.llm_judge.LLMJudgeScorer",
    "python": "apps.engine.scorers.python.PythonScorer",
    "webhook": "apps.engine.scorers.webhook.WebhookScorer",
}


def scorer_types() -> tuple[str, ...]:
    return tuple(SCORERS)


@cache
def get_scorer_class(kind: str) -> type[Scorer]:
    try:
        path = SCORERS[kind]
    except KeyError:
        raise ValueError(f"unknown scorer type '{kind}' (known: {', '.join(SCORERS)})") from None
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def validate_scorer_options(kind: str, options: Any) -> dict[str, Any]:
    """Normalized options for a scorer of type `kind`, or OptionsInvalid naming the bad option."""
    try:
        cls = get_scorer_class(kind)
    except ValueError as exc:
        raise OptionsInvalid("type", str(exc)) from None
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise OptionsInvalid("options", "Must be an object.")
    return cls.validate_options(options)


def build_scorer(kind: str, options: Any) -> Scorer:
    """A ready scorer (options validated); raises OptionsInvalid like `validate_scorer_options`."""
    try:
        cls = get_scorer_class(kind)
    except ValueError as exc:
        raise OptionsInvalid("type", str(exc)) from None
    return cls(options if options is not None else {})

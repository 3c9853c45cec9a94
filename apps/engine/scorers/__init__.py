"""Scorers: type → class, imported on first use (a new scorer is a new module plus one line here)."""

from __future__ import annotations

from typing import Any

from apps.engine.registry import Registry, UnknownKind
from apps.engine.scorers.base import OptionsInvalid, Scorer

SCORERS: Registry[Scorer] = Registry("scorer type", {
    "embedding_similarity": "apps.engine.scorers.embedding.EmbeddingSimilarityScorer",
    "length": "apps.engine.scorers.length.LengthScorer",
    "format": "apps.engine.scorers.format_check.FormatScorer",
    "keyword": "apps.engine.scorers.keyword.KeywordScorer",
    "human": "apps.engine.scorers.human.HumanScorer",
    "llm_judge": "apps.engine.scorers.llm_judge.LLMJudgeScorer",
    "python": "apps.engine.scorers.python.PythonScorer",
    "webhook": "apps.engine.scorers.webhook.WebhookScorer",
    "exact_match": "apps.engine.scorers.exact_match.ExactMatchScorer",
    "contains_expected": "apps.engine.scorers.contains_expected.ContainsExpectedScorer",
    "regex": "apps.engine.scorers.item_regex.ItemRegexScorer",
    "numeric": "apps.engine.scorers.numeric.NumericScorer",
    "json_fields": "apps.engine.scorers.json_fields.JsonFieldsScorer",
    "classification": "apps.engine.scorers.classification.ClassificationScorer",
})


def scorer_types() -> tuple[str, ...]:
    return SCORERS.kinds()


def get_scorer_class(kind: str) -> type[Scorer]:
    return SCORERS.get(kind)


def _scorer_class(kind: str) -> type[Scorer]:
    try:
        return SCORERS.get(kind)
    except UnknownKind as exc:
        raise OptionsInvalid("type", str(exc)) from None


def validate_scorer_options(kind: str, options: Any) -> dict[str, Any]:
    """Normalized options for a scorer of type `kind`, or OptionsInvalid naming the bad option."""
    cls = _scorer_class(kind)
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise OptionsInvalid("options", "Must be an object.")
    return cls.validate_options(options)


def build_scorer(kind: str, options: Any) -> Scorer:
    """A ready scorer (options validated); raises OptionsInvalid like `validate_scorer_options`."""
    return _scorer_class(kind)(options if options is not None else {})

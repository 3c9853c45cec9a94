"""Exact match against the item's expected answer, after normalisation (see labelled.py).

1 when the normalised output equals the normalised expected value, else 0. An expected list is a
set of accepted answers: any one of them matches. An item without an expected value is a scorer
error (it cannot be scored), not a 0.
"""

from __future__ import annotations

from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import Scorer, ScorerError, ScoreResult, ScoringContext


def accepted(value: Any) -> list[str]:
    """The expected value as a list of answers in text (an empty answer is refused)."""
    answers = [labelled.as_text(v) for v in (value if isinstance(value, list) else [value]) if v is not None]
    if not answers or not any(a.strip() for a in answers):
        raise ScorerError("the expected value is empty")
    return answers


class ExactMatchScorer(Scorer):
    type = "exact_match"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("expected", *labelled.NORMALIZE_OPTIONS))
        return {"expected": labelled.source_option(options), **labelled.normalize_options(options)}

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        answers = accepted(labelled.expected_value(ctx.item, self.options["expected"]))
        got = labelled.normalize(ctx.output, self.options)
        normalized = [labelled.normalize(answer, self.options) for answer in answers]
        matched = got in normalized
        shown = labelled.excerpt(" | ".join(answers))
        if matched:
            reasoning = f"matches the expected answer {shown!r}"
        elif got:
            reasoning = f"expected {shown!r}, got {labelled.excerpt(got)!r}"
        else:
            reasoning = f"expected {shown!r}, got nothing"
        return ScoreResult(1.0 if matched else 0.0, {"matched": matched, "expected": shown,
                                                     "output": labelled.excerpt(got), "reasoning": reasoning})

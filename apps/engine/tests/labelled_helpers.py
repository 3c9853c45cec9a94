"""Scoring one output with one labelled-data scorer, for the tests of those scorers."""

from __future__ import annotations

from apps.engine.scorers import build_scorer
from apps.engine.scorers.base import ScoreResult, ScoringContext


async def score(kind: str, output: str, item: dict | None = None, **options) -> ScoreResult:
    return await build_scorer(kind, options).evaluate(ScoringContext(item=item or {}, output=output))

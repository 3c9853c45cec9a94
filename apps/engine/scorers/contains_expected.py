"""Does the output contain the item's expected answer? Both sides normalised (see labelled.py).

With an expected list, `mode` `all` (default) scores the fraction of answers found and `any`
scores 1 when at least one is. `whole_word` requires that no letter, digit or underscore touches
the answer on either side ("cat" is not in "cathedral").
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import Scorer, ScoreResult, ScoringContext
from apps.engine.scorers.exact_match import accepted


def contains(text: str, part: str, *, whole_word: bool) -> bool:
    if not whole_word:
        return part in text
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text) is not None


class ContainsExpectedScorer(Scorer):
    type = "contains_expected"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("expected", "mode", "whole_word", *labelled.NORMALIZE_OPTIONS))
        return {"expected": labelled.source_option(options), "mode": opt.choice(options, "mode", ("all", "any"), "all"),
                "whole_word": opt.flag(options, "whole_word", False), **labelled.normalize_options(options)}

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        answers = [a for a in accepted(labelled.expected_value(ctx.item, self.options["expected"])) if a.strip()]
        text = labelled.normalize(ctx.output, self.options)
        found, missing = [], []
        for answer in answers:
            part = labelled.normalize(answer, self.options)
            hit = bool(part) and contains(text, part, whole_word=self.options["whole_word"])
            (found if hit else missing).append(labelled.excerpt(answer, 100))
        share = len(found) / len(answers)
        value = share if self.options["mode"] == "all" else float(bool(found))
        reasoning = (f"contains {', '.join(map(repr, found))}" if not missing else
                     f"does not contain {', '.join(map(repr, missing))}")
        return ScoreResult(value, {"found": found, "missing": missing, "reasoning": reasoning})

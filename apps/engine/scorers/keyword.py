"""Keyword presence.

Modes: `all` scores the fraction of keywords found; `any` scores 1 when at least one is found,
else 0; `none` scores 1 − the fraction found (graded, so one forbidden word out of four costs a
quarter). Matching ignores case by default (Unicode case folding, so "STRASSE" finds "straße");
`whole_word` requires that no letter, digit or underscore touches the keyword on either side,
which also works for keywords such as "C++" or "e-mail".
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext

MAX_KEYWORDS = 500
MAX_KEYWORD_CHARS = 500


class KeywordScorer(Scorer):
    type = "keyword"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("keywords", "mode", "case_sensitive", "whole_word"))
        raw = options.get("keywords")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise OptionsInvalid("keywords", "Must be a non-empty list of strings.")
        if len(raw) > MAX_KEYWORDS:
            raise OptionsInvalid("keywords", f"At most {MAX_KEYWORDS} keywords.")
        keywords: list[str] = []
        for index, word in enumerate(raw):
            if not isinstance(word, str) or not word.strip() or len(word) > MAX_KEYWORD_CHARS:
                raise OptionsInvalid(f"keywords.{index}", f"Must be a non-empty string of at most "
                                                          f"{MAX_KEYWORD_CHARS} characters.")
            if word.strip() not in keywords:
                keywords.append(word.strip())
        return {
            "keywords": keywords,
            "mode": opt.choice(options, "mode", ("all", "any", "none"), "all"),
            "case_sensitive": opt.flag(options, "case_sensitive", False),
            "whole_word": opt.flag(options, "whole_word", False),
        }

    def found(self, text: str, keyword: str) -> bool:
        if not self.options["case_sensitive"]:
            text, keyword = text.casefold(), keyword.casefold()
        if not self.options["whole_word"]:
            return keyword in text
        return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text) is not None

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        keywords, mode = self.options["keywords"], self.options["mode"]
        found = [word for word in keywords if self.found(ctx.output, word)]
        missing = [word for word in keywords if word not in found]
        share = len(found) / len(keywords)
        value = {"all": share, "any": 1.0 if found else 0.0, "none": 1.0 - share}[mode]
        return ScoreResult(value, {"mode": mode, "found": found, "missing": missing})

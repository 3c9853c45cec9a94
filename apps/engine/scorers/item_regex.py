"""A regular expression taken from the item (scorer type `regex`): does the output match it?

`pattern` says where the item keeps its pattern: a field path (default `expected`) or a template
such as `^{{ expected }}$` (values are inserted as written, so they are regex syntax). `mode`
`search` (default) or `fullmatch`; `ignore_case` (default false). For one fixed pattern for every
item use the `format` scorer's `regex` kind instead.

A pattern that does not compile, is longer than 1,000 characters, or has a nested unbounded
quantifier such as `(a+)+` is a scorer error on that item (with the reason), never a crash; only
the first 100,000 characters of the output are searched, and a match past 2 s is an error too
(regex_safety runs risky patterns in a child process it can kill).
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import Scorer, ScorerError, ScoreResult, ScoringContext
from apps.engine.scorers.regex_safety import RegexTooSlow, find, unsafe_repeat

MAX_PATTERN_CHARS = 1000
MAX_SCAN_CHARS = 100_000
FIXED_HINT = " For one fixed pattern for every item use the `format` scorer with kind `regex`."


def item_pattern(value: Any, *, ignore_case: bool) -> str:
    """The item's pattern, checked: ScorerError saying why it cannot be used."""
    if not isinstance(value, str):
        raise ScorerError(f"the item's pattern must be text, not {type(value).__name__}")
    if len(value) > MAX_PATTERN_CHARS:
        raise ScorerError(f"the item's pattern is longer than {MAX_PATTERN_CHARS} characters")
    pattern = f"(?i){value}" if ignore_case else value
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ScorerError(f"the item's pattern {labelled.excerpt(value, 100)!r} is not a valid regular "
                          f"expression: {exc}") from None
    reason = unsafe_repeat(pattern)
    if reason:
        raise ScorerError(f"the item's pattern {labelled.excerpt(value, 100)!r} is refused: {reason}")
    return pattern


class ItemRegexScorer(Scorer):
    type = "regex"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("pattern", "mode", "ignore_case"))
        return {"pattern": labelled.source_option(options, "pattern", hint=FIXED_HINT),
                "mode": opt.choice(options, "mode", ("search", "fullmatch"), "search"),
                "ignore_case": opt.flag(options, "ignore_case", False)}

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        mode = self.options["mode"]
        value = labelled.expected_value(ctx.item, self.options["pattern"])
        pattern = item_pattern(value, ignore_case=self.options["ignore_case"])
        output = ctx.output
        metadata: dict[str, Any] = {"pattern": labelled.excerpt(value), "mode": mode}
        if len(output) > MAX_SCAN_CHARS:
            if mode == "fullmatch":
                return ScoreResult(0.0, {**metadata, "matched": False, "reasoning":
                                         f"output is longer than {MAX_SCAN_CHARS} characters; fullmatch not tried"})
            output, metadata["scanned_chars"] = output[:MAX_SCAN_CHARS], MAX_SCAN_CHARS
        try:
            span = await find(pattern, output, mode)
        except RegexTooSlow as exc:
            raise ScorerError(str(exc)) from None
        metadata["matched"] = span is not None
        if span is None:
            metadata["reasoning"] = f"does not {'fully ' if mode == 'fullmatch' else ''}match {metadata['pattern']!r}"
            return ScoreResult(0.0, metadata)
        metadata["match"] = labelled.excerpt(output[span[0]:span[1]])
        metadata["reasoning"] = f"matches {metadata['pattern']!r} with {metadata['match']!r}"
        return ScoreResult(1.0, metadata)

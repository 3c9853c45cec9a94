"""A number parsed from the output, compared with the item's expected number within a tolerance.

Parsing: the `first` (default) or `last` number in the output, or with `prefix` (such as
"Answer:", case-insensitive) the first number after the last occurrence of the prefix. Numbers
may carry a sign (`-`, `+` or the Unicode minus `−`), thousands separators as commas in groups of
three (`1,234,567.5`; `3,5` reads as 3), a decimal point, an exponent (`1.5e3`), and
units or currency around them (`$1,200`, `42 kg`, `45%` all parse as the number written). A
number glued to letters before it (`GPT4`) is skipped. "NaN" and "inf" are not numbers here.

Tolerance: the output passes when |got − expected| ≤ max(`abs_tol`, `rel_tol` × |expected|) (both
default 0: exact). Score 1 or 0. An output without a number scores 0; an item whose expected value
is missing or not a finite number is a scorer error.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import Scorer, ScorerError, ScoreResult, ScoringContext

_NUMBER = re.compile(
    r"(?<![\w.,])(?P<sign>[-+\u2212])?(?<![\w.])"
    r"(?P<digits>\d{1,3}(?:,\d{3})+(?!\d|,\d)|\d+(?:\.\d+)?|\.\d+)(?P<frac>(?<=\d)\.\d+)?"
    r"(?P<exp>[eE][-+]?\d+)?"
)
MAX_TOLERANCE = 1e12


def parse_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    return _value(match) if match else None


def _value(match: re.Match) -> float | None:
    digits = match["digits"].replace(",", "") + (match["frac"] or "")
    sign = "-" if match["sign"] in ("-", "\u2212") else ""
    try:
        value = float(f"{sign}{digits}{match['exp'] or ''}")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numbers(text: str) -> list[float]:
    text = unicodedata.normalize("NFKC", text[:labelled.MAX_TEXT_CHARS])
    return [v for v in (_value(m) for m in _NUMBER.finditer(text)) if v is not None]


def expected_number(value: Any) -> float:
    if isinstance(value, bool):
        raise ScorerError("the expected value is true/false, not a number")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and numbers(value):
        number = numbers(value)[0]
    else:
        raise ScorerError(f"the expected value {labelled.excerpt(str(value), 100)!r} is not a number")
    if not math.isfinite(number):
        raise ScorerError(f"the expected value {value!r} is not a finite number")
    return number


class NumericScorer(Scorer):
    type = "numeric"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("expected", "position", "prefix", "abs_tol", "rel_tol"))
        prefix = opt.text(options, "prefix", default=None, max_chars=200)
        return {
            "expected": labelled.source_option(options),
            "position": opt.choice(options, "position", ("first", "last"), "first"),
            "prefix": prefix.strip() if prefix else None,
            "abs_tol": opt.number(options, "abs_tol", default=0.0, low=0, high=MAX_TOLERANCE),
            "rel_tol": opt.number(options, "rel_tol", default=0.0, low=0, high=1000),
        }

    def parsed(self, output: str) -> float | None:
        text, prefix = output, self.options["prefix"]
        if prefix:
            at = text.casefold().rfind(prefix.casefold())
            if at < 0:
                return None
            text = text[at + len(prefix):]
            found = numbers(text)
            return found[0] if found else None
        found = numbers(text)
        if not found:
            return None
        return found[0] if self.options["position"] == "first" else found[-1]

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        o = self.options
        expected = expected_number(labelled.expected_value(ctx.item, o["expected"]))
        got = self.parsed(ctx.output)
        tolerance = max(o["abs_tol"], o["rel_tol"] * abs(expected))
        metadata: dict[str, Any] = {"expected": expected, "parsed": got, "tolerance": tolerance}
        if got is None:
            where = f" after {o['prefix']!r}" if o["prefix"] else ""
            return ScoreResult(0.0, {**metadata, "reasoning": f"no number found in the output{where}"})
        difference = abs(got - expected)
        ok = difference <= tolerance
        metadata["difference"] = difference
        metadata["reasoning"] = (f"{got:g} is within {tolerance:g} of {expected:g}" if ok else
                                 f"{got:g} differs from {expected:g} by {difference:g} (tolerance {tolerance:g})")
        return ScoreResult(1.0 if ok else 0.0, metadata)

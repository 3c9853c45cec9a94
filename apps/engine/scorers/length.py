"""Length compliance: is the output within `min`..`max` characters, words or tokens?

Units: `chars` counts Unicode code points; `words` counts whitespace-separated runs; `tokens` is a
rough, model-independent stand-in for BPE tokens: every run of word characters and every other
non-space character (punctuation, symbols, emoji) is one token, so "Hello, world!" is 4.

Penalty `linear` (default): inside the bounds scores 1; outside, the score falls linearly to 0 at
`tolerance` × the bound away (tolerance 0.5 and max 100: 125 scores 0.5, 150 or more scores 0).
A bound of 0 has no room for tolerance, so anything past it scores 0. `strict`: 0 outside.
"""

from __future__ import annotations

import re
from typing import Any

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext

UNITS = ("chars", "words", "tokens")
_TOKEN = re.compile(r"\w+|[^\w\s]")
MAX_BOUND = 10**9


def count(text: str, unit: str) -> int:
    if unit == "chars":
        return len(text)
    if unit == "words":
        return len(text.split())
    return sum(1 for _ in _TOKEN.finditer(text))


class LengthScorer(Scorer):
    type = "length"

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("unit", "min", "max", "penalty", "tolerance"))
        low = opt.number(options, "min", default=None, low=0, high=MAX_BOUND, integer=True)
        high = opt.number(options, "max", default=None, low=0, high=MAX_BOUND, integer=True)
        if low is None and high is None:
            raise OptionsInvalid("max", "Give a min, a max or both.")
        if low is not None and high is not None and low > high:
            raise OptionsInvalid("min", f"Must not be greater than max ({high}).")
        return {
            "unit": opt.choice(options, "unit", UNITS, "chars"),
            "min": low,
            "max": high,
            "penalty": opt.choice(options, "penalty", ("linear", "strict"), "linear"),
            "tolerance": opt.number(options, "tolerance", default=0.5, low=0.01, high=100),
        }

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        o = self.options
        n = count(ctx.output, o["unit"])
        side, bound = None, None
        if o["min"] is not None and n < o["min"]:
            side, bound = "below", o["min"]
        elif o["max"] is not None and n > o["max"]:
            side, bound = "above", o["max"]
        metadata = {"count": n, "unit": o["unit"], "min": o["min"], "max": o["max"], "penalty": o["penalty"],
                    "outside": side, "distance": abs(n - bound) if bound is not None else 0}
        if side is None:
            return ScoreResult(1.0, metadata)
        span = o["tolerance"] * bound
        if o["penalty"] == "strict" or span <= 0:
            return ScoreResult(0.0, metadata)
        metadata["tolerance"] = o["tolerance"]
        return ScoreResult(max(0.0, 1.0 - metadata["distance"] / span), metadata)

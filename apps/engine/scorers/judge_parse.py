"""Reading a rating out of an LLM judge's reply.

The default judge prompt asks for a final line `SCORE: <number>`. Judges drift, so this also
accepts, in order of preference:
1. a JSON object with `score` (or `rating`) and optionally `reason`/`reasoning`/`explanation`,
   bare or in a ``` fence;
2. a labelled rating anywhere: `SCORE: 8`, `Rating: 8/10`, `**Score:** 7`, `Final score = 7.5`,
   `score of 6` (the last one wins, since judges reason before they conclude);
3. a bare fraction `8/10` (the last one);
4. a reply that is nothing but a number.
A fraction out of a different maximum (`4/5` on a 1–10 scale) is rescaled to the scale's maximum.
Only the last 20,000 characters of a longer reply are read (the rating comes last).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

MAX_REASON_CHARS = 2000
MAX_PARSE_CHARS = 20_000
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_LABELLED = re.compile(
    rf"\b(?:final\s+)?(?:score|rating|grade|verdict)\b\s*(?:is|of|=|:|-|–)?\s*(?:is\s*)?({_NUMBER})"
    rf"(?:\s*(?:/|out\s+of)\s*({_NUMBER}))?",
    re.IGNORECASE,
)
_FRACTION = re.compile(rf"(?<![\w.])({_NUMBER})\s*/\s*({_NUMBER})(?!\w|\.\d)")
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_REASON_KEYS = ("reason", "reasoning", "explanation", "justification", "rationale")


@dataclass(frozen=True)
class Rating:
    value: float
    reasoning: str
    source: str


def _rescaled(value: float, out_of: str | None, scale_max: float) -> float:
    if out_of is None:
        return value
    denominator = float(out_of)
    return value if denominator in (0, scale_max) else value / denominator * scale_max


def _from_json(text: str) -> Rating | None:
    fenced = [re.sub(r"^json\b", "", part.strip(), flags=re.IGNORECASE).strip() for part in text.split("```")[1::2]]
    for candidate in [text.strip(), *fenced, *_OBJECT.findall(text)]:
        if not candidate.startswith("{"):
            continue
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        score = data.get("score", data.get("rating"))
        if isinstance(score, str) and re.fullmatch(_NUMBER, score.strip()):
            score = float(score)
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            continue
        reason = next((data[k] for k in _REASON_KEYS if isinstance(data.get(k), str)), "")
        return Rating(float(score), reason, "json")
    return None


def parse_rating(text: str, scale_max: float) -> Rating | None:
    """The rating a judge gave (on its own scale, not yet normalized), or None."""
    text = text[-MAX_PARSE_CHARS:]
    found = _from_json(text)
    if found is not None:
        return found if math.isfinite(found.value) else None
    plain = re.sub(r"[*_`#]", "", text)
    matches = list(_LABELLED.finditer(plain)) or list(_FRACTION.finditer(plain))
    if matches:
        last = matches[-1]
        value = _rescaled(float(last.group(1)), last.group(2), scale_max)
        reasoning = (plain[:last.start()] + plain[last.end():]).strip()
        source = "labelled" if last.re is _LABELLED else "fraction"
        return Rating(value, reasoning, source)
    if re.fullmatch(rf"\s*{_NUMBER}\s*\.?\s*", plain):
        return Rating(float(plain.strip().rstrip(".")), "", "number")
    return None


def excerpt(text: str, limit: int = MAX_REASON_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"

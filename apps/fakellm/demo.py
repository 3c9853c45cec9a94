"""The demo models (``demo-mini``, ``demo-pro``): a fake support agent whose replies depend on the config.

Any model whose name starts with ``demo-`` answers with a plausible support reply to the last user
message. The reply is built from five optional sentences, each carrying one rubric keyword
(``RUBRIC_KEYWORDS``: thank, sorry, ticket, 24 hours, reply), plus a sentence quoting the customer
and, sometimes, filler sentences that carry none. Each rubric sentence is included with probability

    p = skill(model) + 0.25 if the system prompt asks for it (its cue, e.g. "apologise")
        − 0.45 × temperature ± a small per-message difficulty

so a checklist-style system prompt, a low temperature and ``demo-pro`` score higher on a keyword
scorer. Filler sentences grow with temperature and shrink when the system prompt asks to be
concise, so a length scorer sees the difference too. Every coin flip is a hash of the request
(model, messages, temperature, top_p, seed, max_tokens) and the sentence, so the same request
always gets the same reply, and items differ from each other so confidence intervals have width.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

DEMO_PREFIX = "demo-"
DEMO_MODELS = ["demo-mini", "demo-pro"]
# Unknown demo-* names get the middle skill.
SKILL = {"demo-mini": 0.5, "demo-pro": 0.7}
DEFAULT_SKILL = 0.6
CUE_BONUS = 0.25
TEMPERATURE_SLOPE = 0.45
DEFAULT_TEMPERATURE = 1.0
DIFFICULTY_SPREAD = 0.2
QUOTE_WORDS = 14


@dataclass(frozen=True)
class Facet:
    keyword: str
    cue: re.Pattern[str]
    sentence: str


FACETS = (
    Facet("thank", re.compile(r"thank", re.I), "Thank you for getting in touch with us."),
    Facet("sorry", re.compile(r"apologi[sz]e|sorry", re.I), "I'm sorry for the trouble this has caused you."),
    Facet("ticket", re.compile(r"ticket", re.I), "I have opened ticket #{number} so our team can look into it."),
    Facet("24 hours", re.compile(r"24 hours|timeframe|deadline", re.I), "You will hear back from us within 24 hours."),
    Facet("reply", re.compile(r"\breply\b|follow[- ]up", re.I),
          "If anything else comes up, just reply to this message."),
)
RUBRIC_KEYWORDS = [facet.keyword for facet in FACETS]
FILLER = (
    "Our team takes every message like this seriously.",
    "We know how frustrating this kind of problem can be.",
    "Please bear with us while we look into the details.",
    "We always aim to resolve issues as quickly as we can.",
    "Your experience matters a great deal to all of us here.",
    "We appreciate your patience while this is being handled.",
    "Our support staff work around the clock to help customers.",
)
_CONCISE = re.compile(r"concise|brief|short", re.I)
_LABEL = re.compile(r"^[^:\n]{1,40}:\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def is_demo_model(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(DEMO_PREFIX)


def chance(digest: str, salt: str) -> float:
    """A uniform number in [0, 1) from the request digest and a salt."""
    raw = hashlib.sha256(f"{digest}:{salt}".encode()).digest()
    return int.from_bytes(raw[:8], "big") / 2**64


def temperature_of(body: dict[str, Any]) -> float:
    value = body.get("temperature")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(2.0, max(0.0, float(value)))
    return DEFAULT_TEMPERATURE


def customer_quote(user_text: str) -> str:
    """The customer's first sentence (a leading "Label:" dropped), at most QUOTE_WORDS words."""
    first_line = next((line for line in user_text.splitlines() if line.strip()), "")
    text = _LABEL.sub("", first_line.strip(), count=1)
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    words = sentence.split()
    if len(words) > QUOTE_WORDS:
        sentence = " ".join(words[:QUOTE_WORDS]) + "…"
    return sentence.rstrip(".!?") or "your request"


def facet_probability(*, model: str, system: str, temperature: float, difficulty: float, facet: Facet) -> float:
    p = SKILL.get(model, DEFAULT_SKILL) - TEMPERATURE_SLOPE * temperature + difficulty
    if facet.cue.search(system):
        p += CUE_BONUS
    return min(0.98, max(0.02, p))


def filler_count(*, system: str, temperature: float, roll: float) -> int:
    expected = 2.0 * temperature if _CONCISE.search(system) else 1.0 + 4.0 * temperature
    return int(expected + roll)


def demo_reply(*, model: str, system: str, user_text: str, temperature: float, digest: str) -> str:
    """The demo agent's reply; `digest` (of the whole request) seeds every choice."""
    # Difficulty depends on the message alone, so the same item is hard for every config.
    difficulty = (chance(hashlib.sha256(user_text.encode()).hexdigest(), "difficulty") - 0.5) * DIFFICULTY_SPREAD
    chosen = {
        facet.keyword: chance(digest, facet.keyword) < facet_probability(
            model=model, system=system, temperature=temperature, difficulty=difficulty, facet=facet)
        for facet in FACETS
    }
    number = 4000 + int(chance(digest, "number") * 6000)
    sentences = [FACETS[0].sentence] if chosen["thank"] else []
    sentences.append(f'About your message, "{customer_quote(user_text)}": here is where things stand.')
    sentences += [facet.sentence.format(number=number) for facet in FACETS[1:3] if chosen[facet.keyword]]
    fillers = filler_count(system=system, temperature=temperature, roll=chance(digest, "filler"))
    start = int(chance(digest, "filler-start") * len(FILLER))
    sentences += [FILLER[(start + i) % len(FILLER)] for i in range(min(fillers, len(FILLER)))]
    sentences += [facet.sentence for facet in FACETS[3:] if chosen[facet.keyword]]
    return " ".join(sentences)

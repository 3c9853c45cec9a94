"""The search task (``search-*`` models): reply quality is a known function of the config, with noise.

Any model whose name starts with ``search-`` answers by listing facts: the first ``k`` of the
``FACT_COUNT`` tokens ``fact-01 … fact-50``, where

    k = round(FACT_COUNT × clip(quality + noise, 0, 1))
    quality = skill(model) − curvature(model) × (temperature − best_temperature(model))²
              + the bonus of every cue the prompt wording contains (``CUES``, ``PENALTIES``)
              + the bonus of every pair of cues present together (``SYNERGIES``), clipped to [0, 1]
    noise   = uniform in [−NOISE, +NOISE], a hash of the whole request (so the same request
              always gets the same reply, and items of one config differ a little)

A keyword scorer over all the facts (``FACTS``, mode ``all``) therefore scores a reply at its
quality ± NOISE, rounded to 1/FACT_COUNT. Cues are matched, case-insensitively, on the system
prompt and the last user message (keep item texts free of cue words).

The landscape is built so that a search has to find one narrow peak, not a plateau:

* model × temperature interact: each model has its own best temperature and its own curvature, and
  the strongest model (``search-pro``, best at 0.6) has the narrowest sweet spot (±0.1 costs 0.06),
  while ``search-max`` peaks lower at 0.3 (a second, misleading peak for anyone averaging over models);
* some cues only help together: "concise" alone costs 0.02 (fewer facts listed) but with "step by
  step" adds 0.08 more; "cite" and "check" add 0.03 each and 0.06 more together.

The optimum is ``search-pro`` at temperature 0.6 with every cue: 0.68 + 0.28 = 0.96 (``OPTIMUM``); the
next best configuration of the bench's grid is 0.92 (``search-max``, 0.3, every cue), so exactly one of
its 528 configurations is within 98 % of the optimum, and a random quarter of the grid holds it with
probability 1/4. ``search-proposer`` is a prompt_search proposer that appends the phrases of missing
cues (``proposer_reply``). ``PROMPT_VARIANTS`` are twelve system prompts from weak (no cue) to the
optimum (all cues), the prompt axis of bench/search.py's grid of 4 models × 11 temperatures × 12
prompts = 528 configs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from apps.fakellm.demo import chance

SEARCH_PREFIX = "search-"
PROPOSER_MODEL = "search-proposer"
FACT_COUNT = 50
FACTS = [f"fact-{k:02d}" for k in range(1, FACT_COUNT + 1)]
NOISE = 0.03
DEFAULT_TEMPERATURE = 1.0
# model → (skill, best temperature, curvature); unknown search-* names get DEFAULT_MODEL.
MODELS = {
    "search-small": (0.50, 0.2, 2.0),
    "search-base": (0.58, 0.4, 3.0),
    "search-pro": (0.68, 0.6, 6.0),
    "search-max": (0.64, 0.3, 4.0),
}
DEFAULT_MODEL = (0.50, 0.5, 2.0)
TEMPERATURES = [round(0.1 * k, 1) for k in range(11)]


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: re.Pattern[str]
    bonus: float
    phrase: str


CUES = (
    Cue("step by step", re.compile(r"step[- ]by[- ]step", re.I), 0.06, "Think step by step."),
    Cue("cite", re.compile(r"\bcit(e|es|ing|ation)", re.I), 0.03, "Cite your sources."),
    Cue("check", re.compile(r"\b(double[- ])?check|\bverify", re.I), 0.03, "Check your answer."),
    Cue("concise", re.compile(r"\bconcise|\bbrief", re.I), -0.02, "Be concise."),
    Cue("expert", re.compile(r"\bexpert", re.I), 0.04, "You are an expert."),
)
# Wording that hurts: asking the model to guess.
PENALTIES = (Cue("guess", re.compile(r"\bguess", re.I), -0.10, "Guess if unsure."),)
# Pairs of cues worth more together than apart: a concise answer helps once the steps are thought
# through, and citing helps most when the citations are checked.
SYNERGIES = ((("step by step", "concise"), 0.08), (("cite", "check"), 0.06))

WEAK_PROMPT = "Answer the question."
PROMPT_VARIANTS = [
    WEAK_PROMPT,
    "Answer the question; guess if unsure.",
    "You are an expert. Answer the question.",
    "Answer the question. Be concise.",
    "Answer the question and cite your sources.",
    "Think step by step, then answer the question.",
    "Answer the question, then check your answer.",
    "You are an expert. Think step by step, then answer the question.",
    "Think step by step, answer the question and cite your sources.",
    "Think step by step, answer, cite your sources and check the answer.",
    "You are an expert. Think step by step, answer, cite your sources and check the answer.",
    "You are an expert. Think step by step, give a concise answer, cite your sources and check it.",
]
OPTIMUM = {"model": "search-pro", "temperature": 0.6, "system_prompt": PROMPT_VARIANTS[-1], "quality": 0.96}


def is_search_model(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(SEARCH_PREFIX)


def temperature_of(body: dict[str, Any]) -> float:
    value = body.get("temperature")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(2.0, max(0.0, float(value)))
    return DEFAULT_TEMPERATURE


def cues_in(text: str) -> list[str]:
    return [cue.name for cue in CUES + PENALTIES if cue.pattern.search(text)]


def quality(*, model: str, temperature: float, prompt: str) -> float:
    """The noise-free quality of a config, in [0, 1] (the module docstring gives the formula)."""
    skill, best_temperature, curvature = MODELS.get(model, DEFAULT_MODEL)
    value = skill - curvature * (temperature - best_temperature) ** 2
    present = set(cues_in(prompt))
    value += sum(cue.bonus for cue in CUES + PENALTIES if cue.name in present)
    value += sum(bonus for pair, bonus in SYNERGIES if present.issuperset(pair))
    return round(min(1.0, max(0.0, value)), 6)  # 0.68 + 0.28 is 0.96, not 0.9600000000000001


def fact_count(*, quality_value: float, digest: str) -> int:
    noise = (2 * chance(digest, "search-noise") - 1) * NOISE
    return round(FACT_COUNT * min(1.0, max(0.0, quality_value + noise)))


_CURRENT_PROMPT = re.compile(r"<prompt>\s*(.*?)\s*</prompt>", re.S)
_VARIANT_COUNT = re.compile(r"\bwrite (\d+) (?:new )?variants?", re.I)


def proposer_reply(*, user_text: str, digest: str) -> str:
    """A prompt_search proposer: variants of the prompt in `<prompt>…</prompt>` that add cues it lacks.

    Variant j appends the phrase of the j-th missing cue (in an order drawn from the request digest);
    odd variants append the next missing cue too. With every cue present it returns the prompt reworded
    (no gain). Replies with JSON {"reasoning", "variants"}, k taken from "Write k new variants".
    """
    match = _CURRENT_PROMPT.search(user_text)
    current = match.group(1) if match else ""
    count = _VARIANT_COUNT.search(user_text)
    k = max(1, min(20, int(count.group(1)))) if count else 4
    missing = sorted((cue for cue in CUES if not cue.pattern.search(current)),
                     key=lambda cue: chance(digest, f"order:{cue.name}"))
    variants, notes = [], []
    for j in range(k):
        if not missing:
            variants.append(f"{current} Answer carefully (rewording {j + 1}).".strip())
            continue
        added = [missing[j % len(missing)]]
        if j % 2 and len(missing) > 1:
            added.append(missing[(j + 1) % len(missing)])
        variants.append(" ".join([current, *(cue.phrase for cue in added)]).strip())
        notes.append(" and ".join(cue.name for cue in added))
    reasoning = ("Added " + "; ".join(notes) + ".") if notes else "Every cue is present; reworded only."
    return json.dumps({"reasoning": reasoning, "variants": list(dict.fromkeys(variants))})


def search_reply(*, model: str, system: str, user_text: str, temperature: float, digest: str) -> str:
    """The reply: the facts this config finds; `digest` (of the whole request) seeds the noise."""
    if model == PROPOSER_MODEL:
        return proposer_reply(user_text=user_text, digest=digest)
    value = quality(model=model, temperature=temperature, prompt=f"{system}\n{user_text}")
    found = FACTS[:fact_count(quality_value=value, digest=digest)]
    return "Findings: " + (" ".join(found) if found else "none") + "."

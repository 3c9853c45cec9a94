"""The fake prompt proposer (models named ``proposer-*``): improves a prompt from the scorers' feedback.

It answers the prompt_search proposer's request (apps/engine/planners/prompt_search.py DEFAULT_TEMPLATE)
the way a helpful LLM would, but deterministically: it reads the current prompt between ``<prompt>`` tags,
the keywords the keyword scorer reported ``"missing"`` on the worst items (most frequent first) and the
number of variants asked for ("Write K new variants"). Variant i appends "Always mention: …" for the
first i + 1 missing keywords, so with the demo models (apps/fakellm/demo.py, whose cues are those very
keywords) each round's best variant scores higher; once nothing is missing, variants only add a neutral
style note, so the score stops rising. The reply is JSON: {"reasoning": …, "variants": […]}.
"""

from __future__ import annotations

import json
import re
from collections import Counter

PROPOSER_PREFIX = "proposer-"
DEFAULT_K = 4
_PROMPT = re.compile(r"<prompt>\n?(.*?)\n?</prompt>", re.S)
_MISSING = re.compile(r'"missing":\s*(\[[^\]]*\])')
_K = re.compile(r"Write (\d+) new variants")
STYLE_NOTES = ("Keep a calm tone.", "Use plain words.", "Stay on topic.", "Be precise.", "Use short sentences.",
               "Address the customer directly.", "Avoid jargon.", "Keep the structure tidy.")


def is_proposer_model(model: object) -> bool:
    return isinstance(model, str) and model.startswith(PROPOSER_PREFIX)


def missing_keywords(text: str) -> list[str]:
    counts: Counter[str] = Counter()
    for match in _MISSING.finditer(text):
        try:
            words = json.loads(match.group(1))
        except ValueError:
            continue
        counts.update(w for w in words if isinstance(w, str))
    return [word for word, _ in counts.most_common()]


def proposer_reply(user_text: str) -> str:
    found = _PROMPT.search(user_text)
    current = found.group(1).strip() if found else ""
    k_match = _K.search(user_text)
    k = int(k_match.group(1)) if k_match else DEFAULT_K
    missing = [word for word in missing_keywords(user_text) if word.lower() not in current.lower()]
    variants = []
    for i in range(k):
        if i < len(missing):
            variants.append(f"{current} Always mention: {', '.join(missing[: i + 1])}.".strip())
        else:
            notes = [note for note in STYLE_NOTES if note not in current]
            variants.append(f"{current} {notes[i % len(notes)] if notes else f'Variant {i}.'}".strip())
    reasoning = (f"The worst outputs miss {', '.join(missing)}; each variant asks for more of them."
                 if missing else "Nothing the scorers want is missing; these variants only adjust the style.")
    return json.dumps({"reasoning": reasoning, "variants": variants})

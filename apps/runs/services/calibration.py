"""What an endpoint and model returned before: the numbers that turn a rendered prompt into a token range.

Before an (endpoint, model) has history, prompt tokens are a heuristic: characters / 4 plus a per-message
overhead, within characters / 8 and characters / 2. Once the owner's response cache holds calls of it, the
observed prompt tokens per character replace the heuristic and the observed replies give the output's
expected length and spread (docs/estimates.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import Length, RowNumber

from apps.core.types import Id
from apps.runs.models import ResponseCache

CHARS_PER_TOKEN = 4.0
CHARS_PER_TOKEN_LOW, CHARS_PER_TOKEN_HIGH = 8.0, 2.0  # few tokens per char (long words) … many (code, CJK)
MESSAGE_OVERHEAD = 4  # tokens per message for its role and separators, as chat formats count them
REPLY_OVERHEAD = 3  # tokens that prime the reply
DEFAULT_OUTPUT_TOKENS = 256  # the expected reply without history or max_tokens
UNBOUNDED_OUTPUT_TOKENS = 1024  # the upper bound then: a guess, the model's context is the only real one
HISTORY_ROWS = 1000  # the latest calls per (endpoint, model) read
MIN_HISTORY = 3  # calls before history replaces the heuristic
NOT_STAGE_CALLS = ("judge", "embedding")  # cache entries of scorers: other prompts, other replies

Target = tuple[str, str, str]  # (provider kind, base URL, model): what the cache records of a call
Range = tuple[float, float, float]  # (low, expected, high)


def prompt_chars(messages: Iterable[dict]) -> int:
    """Characters of the messages' text, the unit the prompt heuristic and its calibration count."""
    total = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(part.get("text", "")) for part in content if isinstance(part, dict))
    return total


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class History:
    """One (endpoint, model)'s latest calls, summarised."""

    calls: int
    tokens_per_char: Range | None  # prompt tokens per character: p10, overall, p90 (None: no prompt sizes stored)
    output_tokens: tuple[float, float, float, float]  # p10, mean, p90, max
    output_chars: float  # mean characters of a reply


class TokenModel:
    """Token ranges of one (endpoint, model): from its history, or the heuristic without enough of it."""

    def __init__(self, history: History | None) -> None:
        self.history = history if history is not None and history.calls >= MIN_HISTORY else None

    @property
    def source(self) -> str:
        return "history" if self.history is not None else "heuristic"

    def prompt_tokens(self, chars: int, messages: int) -> Range:
        ratio = self.history.tokens_per_char if self.history is not None else None
        if ratio is not None:
            return chars * ratio[0], chars * ratio[1], chars * ratio[2]
        overhead = MESSAGE_OVERHEAD * messages + REPLY_OVERHEAD
        return (chars / CHARS_PER_TOKEN_LOW, chars / CHARS_PER_TOKEN + overhead,
                chars / CHARS_PER_TOKEN_HIGH + overhead)

    def output_tokens(self, max_tokens: int | None) -> Range:
        cap = max_tokens if max_tokens else math.inf
        if self.history is None:
            expected = min(cap, DEFAULT_OUTPUT_TOKENS)
            return 1.0, expected, min(cap, UNBOUNDED_OUTPUT_TOKENS)
        p10, mean, p90, most = self.history.output_tokens
        high = max_tokens or max(most, 2 * p90)
        return min(cap, p10), min(cap, mean), high

    def output_chars(self, max_tokens: int | None) -> int:
        """The expected reply's length in characters: what later stages will read."""
        expected = self.output_tokens(max_tokens)[1]
        if self.history is None or not self.history.output_tokens[1]:
            return round(expected * CHARS_PER_TOKEN)
        return round(self.history.output_chars * min(1.0, expected / self.history.output_tokens[1]))


def _summary(rows: list[tuple[int, int, int, int]]) -> History:
    ratios = sorted(tokens_in / chars for tokens_in, _, chars, _ in rows if chars)
    sized = [(tokens_in, chars) for tokens_in, _, chars, _ in rows if chars]
    per_char = None
    if ratios:
        overall = sum(t for t, _ in sized) / sum(c for _, c in sized)
        per_char = (min(overall, _quantile(ratios, 0.1)), overall, max(overall, _quantile(ratios, 0.9)))
    outputs = sorted(float(tokens_out) for _, tokens_out, _, _ in rows)
    mean = sum(outputs) / len(outputs)
    return History(calls=len(rows), tokens_per_char=per_char,
                   output_tokens=(_quantile(outputs, 0.1), mean, _quantile(outputs, 0.9), outputs[-1]),
                   output_chars=sum(length for *_, length in rows) / len(rows))


def history_for(*, owner_id: Id, targets: Iterable[Target]) -> dict[Target, History]:
    """The owner's latest cached calls of each target, summarised: one query for all of them."""
    targets = set(targets)
    if not targets:
        return {}
    latest = Window(RowNumber(), partition_by=[F("provider"), F("base_url"), F("model")],
                    order_by=F("created_at").desc())
    rows = (ResponseCache.objects.filter(owner_id=owner_id, base_url__in={t[1] for t in targets},
                                         model__in={t[2] for t in targets})
            .exclude(origin_run__in=NOT_STAGE_CALLS).annotate(latest=latest, length=Length("response"))
            .filter(latest__lte=HISTORY_ROWS)
            .values_list("provider", "base_url", "model", "tokens_in", "tokens_out", "prompt_chars", "length"))
    grouped: dict[Target, list] = defaultdict(list)
    for provider, base_url, model, *numbers in rows:
        if (provider, base_url, model) in targets:
            grouped[(provider, base_url, model)].append(tuple(numbers))
    return {target: _summary(found) for target, found in grouped.items()}

"""Classification against the item's expected label: per item correct or not, per run a label report.

Options: `labels` (the allowed labels, as they should be shown; optional), `match` (`exact`,
default: the whole normalised output is the label; `contains`: the output names exactly one of
the labels as a whole word, which needs `labels`), `expected` (where the item's label is, default
`expected`) and the normalisation options of labelled.py, with `ignore_punctuation` on by default
so "Positive." is "positive". Labels that normalise to the same text are refused.

Per item: 1 when the predicted label is the expected one, else 0; the metadata keeps `expected`
and `predicted` (None when the output names no allowed label, or several with `contains`). An
expected label that is not among `labels` is a scorer error on that item, since no output could be
right. Without `labels` the expected labels seen in the run are the label set.

`label_report` turns a run's (expected, predicted) pairs into accuracy, per-label precision,
recall, F1 and support, macro F1 over the labels that occur, and a confusion matrix (rows:
expected, columns: predicted, plus an "(other)" column for outputs that named no label). The run
detail page and the markdown report compute it on read from the stored per-item scores.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apps.engine.scorers import labelled
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScorerError, ScoreResult, ScoringContext

MAX_LABELS = 100
MAX_LABEL_CHARS = 200
OTHER = "(other)"


class ClassificationScorer(Scorer):
    type = "classification"
    label_metrics = True

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("expected", "labels", "match", *labelled.NORMALIZE_OPTIONS))
        rules = labelled.normalize_options(options, punctuation=True)
        labels = _labels(options.get("labels"), rules)
        match = opt.choice(options, "match", ("exact", "contains"), "exact")
        if match == "contains" and not labels:
            raise OptionsInvalid("labels", "Give the allowed labels: `contains` looks for them in the output.")
        return {"expected": labelled.source_option(options), "labels": labels, "match": match, **rules}

    def canonical(self, text: str) -> str | None:
        """The allowed label that `text` normalises to (or the normalised text without `labels`)."""
        key = labelled.normalize(text, self.options)
        if not self.options["labels"]:
            return key or None
        return next((label for label in self.options["labels"] if labelled.normalize(label, self.options) == key),
                    None)

    def predicted(self, output: str) -> tuple[str | None, str]:
        if self.options["match"] == "exact":
            label = self.canonical(output)
            return label, "" if label else "the output is not one of the labels"
        text = labelled.normalize(output, self.options)
        named = [label for label in self.options["labels"]
                 if re.search(rf"(?<!\w){re.escape(labelled.normalize(label, self.options))}(?!\w)", text)]
        if len(named) == 1:
            return named[0], ""
        return None, ("the output names several labels: " + ", ".join(named)) if named else \
            "the output names none of the labels"

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        raw = labelled.as_text(labelled.expected_value(ctx.item, self.options["expected"]))
        expected = self.canonical(raw)
        if expected is None:
            allowed = ", ".join(self.options["labels"]) or "(none)"
            raise ScorerError(f"the expected label {labelled.excerpt(raw, 100)!r} is not one of the labels: {allowed}")
        predicted, why = self.predicted(ctx.output)
        correct = predicted == expected
        if correct:
            reasoning = f"predicted {predicted!r}, as expected"
        elif predicted:
            reasoning = f"expected {expected!r}, predicted {predicted!r}"
        else:
            reasoning = f"expected {expected!r}; {why}"
        return ScoreResult(1.0 if correct else 0.0, {"expected": expected, "predicted": predicted, "correct": correct,
                                                     "reasoning": reasoning})


def _labels(raw: Any, rules: dict) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LABELS:
        raise OptionsInvalid("labels", f"Must be a list of 1 to {MAX_LABELS} labels.")
    labels: list[str] = []
    seen: dict[str, str] = {}
    for index, label in enumerate(raw):
        if isinstance(label, (int, float)) and not isinstance(label, bool):
            label = labelled.as_text(label)
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
            raise OptionsInvalid(f"labels.{index}", f"Must be a non-empty string of at most {MAX_LABEL_CHARS} "
                                                    "characters.")
        key = labelled.normalize(label, rules)
        if not key:
            raise OptionsInvalid(f"labels.{index}", "Is empty once normalised (only punctuation or a prefix).")
        if key in seen:
            raise OptionsInvalid(f"labels.{index}", f"Is the same label as {seen[key]!r} once normalised.")
        seen[key] = label.strip()
        labels.append(label.strip())
    return labels


@dataclass(frozen=True)
class LabelStats:
    label: str
    precision: float | None  # None: nothing was predicted as this label
    recall: float | None  # None: no item expects this label
    f1: float | None
    support: int  # items that expect this label
    predicted: int  # items predicted as this label


@dataclass(frozen=True)
class LabelReport:
    n: int
    correct: int
    accuracy: float | None
    macro_f1: float | None
    labels: list[LabelStats]
    columns: list[str]  # predicted labels, then OTHER when an output named no label
    matrix: list[tuple[str, list[int]]]  # (expected label, counts per column)


def label_report(pairs: Iterable[tuple[str, str | None]], labels: list[str] | None = None) -> LabelReport:
    """Accuracy, per-label precision/recall/F1 and the confusion matrix of (expected, predicted) pairs."""
    pairs = list(pairs)
    order = list(labels or sorted({expected for expected, _ in pairs}))
    counts = Counter((expected, predicted if predicted in order else OTHER) for expected, predicted in pairs)
    columns = order + ([OTHER] if any(predicted == OTHER for _, predicted in counts) else [])
    stats = []
    for label in order:
        tp = counts[(label, label)]
        support = sum(c for (e, _), c in counts.items() if e == label)
        predicted = sum(c for (_, p), c in counts.items() if p == label)
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        if recall is None:
            f1 = None
        elif tp == 0:
            f1 = 0.0
        else:
            f1 = 2 * precision * recall / (precision + recall)
        stats.append(LabelStats(label, precision, recall, f1, support, predicted))
    correct = sum(c for (e, p), c in counts.items() if e == p)
    scored = [s.f1 for s in stats if s.f1 is not None]
    return LabelReport(
        n=len(pairs), correct=correct, accuracy=correct / len(pairs) if pairs else None,
        macro_f1=sum(scored) / len(scored) if scored else None, labels=stats, columns=columns,
        matrix=[(label, [counts[(label, column)] for column in columns]) for label in order],
    )

"""Label reports of a run: for each classification-style scorer, accuracy, per-label F1 and the confusion matrix.

Computed on read from the run's per-item scores (their metadata keeps the expected and predicted
label), not stored: one query per run page or report, and a re-score never leaves a stale copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.engine.scorers.classification import LabelReport, label_report
from apps.runs.models import Run, Score


@dataclass(frozen=True)
class RunLabelReport:
    scorer_name: str
    report: LabelReport
    errored: int  # items the scorer could not score (e.g. an expected label outside the labels)


def run_label_reports(*, run: Run) -> list[RunLabelReport]:
    """One report per scorer of the run's experiment that has label metrics, in scorer order."""
    specs = [spec for spec in run.experiment.spec.scoring if spec.cls is not None and spec.cls.label_metrics]
    if not specs:
        return []
    rows: dict[str, list[tuple[dict, str]]] = {spec.name: [] for spec in specs}
    scores = Score.objects.filter(run=run, scorer_name__in=list(rows), rated_by__isnull=True)
    for name, metadata, error in scores.values_list("scorer_name", "metadata", "error"):
        rows[name].append((metadata if isinstance(metadata, dict) else {}, error))
    reports = []
    for spec in specs:
        pairs = [(str(m["expected"]), None if m.get("predicted") is None else str(m["predicted"]))
                 for m, error in rows[spec.name] if not error and m.get("expected") is not None]
        labels = list(spec.options.get("labels") or []) or None
        errored = len(rows[spec.name]) - len(pairs)
        reports.append(RunLabelReport(spec.name, label_report(pairs, labels), errored=errored))
    return reports

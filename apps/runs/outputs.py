"""The final output of an item × repeat: one rule for scoring, re-scoring, the leaderboard and compare.

The rule: the output of the run's last stage (by its config), for an item × repeat none of whose stages
failed. A run whose stored results stop before the last stage has no final output for that item,
whatever stage it reached.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.runs.models import Run, StageResult
from apps.runs.services.scoring import ScoredOutput

# (item_id, repeat, stage_index, stage_name, text, error): one stage's result, stored or in memory.
StageRow = tuple[str, int, int, str, str, str]


def stage_count(config: dict | None) -> int:
    return len((config or {}).get("stages") or [])


def final_outputs(rows: Iterable[StageRow], *, stages: int) -> list[ScoredOutput]:
    """The final output of every item × repeat whose stages all succeeded, in the order items first appear."""
    outputs: dict[tuple[str, int], dict[str, str]] = {}
    finals: dict[tuple[str, int], str] = {}
    failed: set[tuple[str, int]] = set()
    for item_id, repeat, index, name, text, error in rows:
        key = (item_id, repeat)
        outputs.setdefault(key, {})
        if error:
            failed.add(key)
            continue
        outputs[key][name] = text
        if index == stages - 1:
            finals[key] = text
    return [ScoredOutput(item_id=key[0], repeat=key[1], output=finals[key], stage_outputs=stage_outputs)
            for key, stage_outputs in outputs.items() if key in finals and key not in failed]


def stored_final_outputs(*, runs: dict[str, int]) -> dict[str, list[ScoredOutput]]:
    """run id → final outputs from its stored StageResults; `runs` maps each run id to its stage count."""
    runs = {str(run_id): count for run_id, count in runs.items()}
    rows = (StageResult.objects.filter(run_id__in=list(runs))
            .values_list("run_id", "item_id", "repeat", "stage_index", "stage_name", "response_raw", "error"))
    by_run: dict[str, list[StageRow]] = {str(run_id): [] for run_id in runs}
    for run_id, *row in rows:
        by_run[str(run_id)].append(tuple(row))
    return {run_id: final_outputs(rows, stages=runs[run_id]) for run_id, rows in by_run.items()}


def run_final_outputs(*, run: Run) -> dict[tuple[str, int], str]:
    """(item_id, repeat) → final output of one run."""
    found = stored_final_outputs(runs={str(run.pk): stage_count(run.config)})[str(run.pk)]
    return {(out.item_id, out.repeat): out.output for out in found}

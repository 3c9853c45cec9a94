"""Exports of the best (or a chosen) run, and run comparison (the REST API's /export and /compare)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from apps.experiments.selectors import experiment_get
from apps.exports.compare import run_compare
from apps.exports.services import export_render
from apps.mcp.registry import Args, Call, ToolSpec


class Export(BaseModel):
    format: str
    filename: str
    content_type: str
    content: str = Field(description="The file's text: a .env, JSON or YAML config, or a markdown report.")


class Significance(BaseModel):
    test: str = Field(description="mcnemar_exact (pass/fail), wilcoxon, or none (no shared items).")
    alternative: str
    p_value: float
    n: int = Field(description="Items scored by both runs (repeats averaged per item).")
    repeats: int
    mean_a: float | None
    mean_b: float | None
    mean_difference: float | None = Field(description="b − a over the paired items.")
    ci_low: float | None = Field(description="Paired bootstrap 95% interval of the mean difference.")
    ci_high: float | None
    effect_size: float | None = Field(description="Matched-pairs rank-biserial in [-1, 1], positive: b better.")
    b_better: int
    a_better: int
    ties: int
    alpha: float
    significant: bool


class Comparison(BaseModel):
    significance: Significance | None = Field(description="Is b better than a? A paired test by item, two-sided "
                                                          "(docs/significance.md); null for runs of different "
                                                          "experiments.")
    comparison: dict[str, Any] = Field(description="Config diff, per-item outputs and scores, and totals of a "
                                                   "and b, as the REST API's /runs/compare returns them.")


class ExportArgs(Args):
    experiment_id: uuid.UUID
    format: Literal["env", "json", "yaml", "report"] = "env"
    run_id: uuid.UUID | None = Field(None, description="Export this finished run instead of the best one.")
    baseline_run_id: uuid.UUID | None = Field(None, description="Reports: diff against this run.")


class CompareArgs(Args):
    run_a_id: uuid.UUID
    run_b_id: uuid.UUID
    offset: int = Field(0, ge=0)
    limit: int = Field(20, ge=1, le=500)


def export_best_config(call: Call, args: ExportArgs) -> Export:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    result = export_render(user=call.user, experiment=experiment, fmt=args.format, run_id=args.run_id,
                           baseline_id=args.baseline_run_id)
    return Export(format=args.format, filename=result.filename, content_type=result.content_type,
                  content=result.content)


def compare_runs(call: Call, args: CompareArgs) -> Comparison:
    body = run_compare(user=call.user, run_a_id=args.run_a_id, run_b_id=args.run_b_id, offset=args.offset,
                       limit=args.limit)
    return Comparison(significance=body.get("significance"), comparison=body)


TOOLS = [
    # Neither read-only nor idempotent: every export adds a row to the project's export history.
    ToolSpec("export_best_config", "Export the best run's configuration (approved runs first among equals) as a "
             ".env, JSON or YAML file, or a markdown report with confidence intervals and cost.", ExportArgs, Export,
             export_best_config),
    ToolSpec("compare_runs", "Compare two runs: what differs in their configuration, their outputs item by item, "
             "their scores and totals, and whether b is significantly better than a (paired by item).", CompareArgs,
             Comparison, compare_runs, read_only=True, idempotent=True),
]

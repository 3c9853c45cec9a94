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


class Comparison(BaseModel):
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
    return Comparison(comparison=run_compare(user=call.user, run_a_id=args.run_a_id, run_b_id=args.run_b_id,
                                             offset=args.offset, limit=args.limit))


TOOLS = [
    # Neither read-only nor idempotent: every export adds a row to the project's export history.
    ToolSpec("export_best_config", "Export the best run's configuration (approved runs first among equals) as a "
             ".env, JSON or YAML file, or a markdown report with confidence intervals and cost.", ExportArgs, Export,
             export_best_config),
    ToolSpec("compare_runs", "Compare two runs: what differs in their configuration, their outputs item by item, "
             "their scores and totals.", CompareArgs, Comparison, compare_runs, read_only=True, idempotent=True),
]

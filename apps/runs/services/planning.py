"""Turn a sweep request into the list of runs to execute, and estimate what it will cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from apps.core.models import SystemSettings
from apps.engine.config_paths import apply_point
from apps.engine.hashing import sha256_of
from apps.engine.planners import PlanError, get_planner


class SweepRequestInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass
class PlannedRun:
    point: dict
    config: dict
    config_hash: str


@dataclass
class Plan:
    kind: str
    items: list[dict]
    repeats: int
    parameter_space: list
    runs: list[PlannedRun] = field(default_factory=list)
    note: str = ""
    state: dict | None = None  # guided search state after the first batch

    @property
    def calls(self) -> int:
        stages = len(self.runs[0].config["stages"]) if self.runs else 0
        return len(self.runs) * len(self.items) * self.repeats * stages


def samples_fingerprint(items: list[dict]) -> str:
    return sha256_of(items)


def run_config_hash(*, config: dict, items_fingerprint: str, repeats: int) -> str:
    return sha256_of({"config": config, "samples": items_fingerprint, "repeats": repeats})


def select_items(experiment, sample_ids: list[str] | None, inline: list[dict] | None = None) -> list[dict]:
    items = list(inline if inline is not None else experiment.sample_data)
    if sample_ids is None:
        return items
    wanted = [str(s) for s in sample_ids]
    known = {str(item["id"]) for item in items}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise SweepRequestInvalid({"sample_ids": [f"Unknown sample item id(s): {', '.join(unknown[:10])}"]})
    chosen = set(wanted)
    return [item for item in items if str(item["id"]) in chosen]


def sweep_plan(
    *, experiment, kind: str, parameter_space: list, repeats: int, n: int | None = None,
    seed: int | None = None, sample_ids: list[str] | None = None,
) -> Plan:
    """Expand the space into runs (deduplicated), refusing plans over the call limit."""
    items = select_items(experiment, sample_ids)
    if not items:
        raise SweepRequestInvalid({"sample_ids": ["The sweep has no sample items to run."]})
    limit = SystemSettings.load().max_calls_per_sweep or settings.MAX_CALLS_PER_SWEEP
    stages = len(experiment.pipeline_stages)
    per_run = len(items) * repeats * stages
    max_points = max(1, limit // max(per_run, 1))
    try:
        points = get_planner(kind).plan(parameter_space, n=n, seed=seed, max_points=max_points)
    except PlanError as exc:
        message = str(exc)
        if "limit" in message:
            message += (f" A sweep may make at most {limit:,} LLM calls and each configuration here costs "
                        f"{per_run:,} ({len(items)} items × {repeats} repeats × {stages} stages).")
        raise SweepRequestInvalid({exc.field: [message]}) from exc
    plan = Plan(kind=kind, items=items, repeats=repeats, parameter_space=parameter_space)
    fingerprint = samples_fingerprint(items)
    base = {"stages": experiment.pipeline_stages}
    seen: set[str] = set()
    for point in points:
        config = apply_point(base, point)
        config_hash = run_config_hash(config=config, items_fingerprint=fingerprint, repeats=repeats)
        if config_hash in seen:
            continue
        seen.add(config_hash)
        plan.runs.append(PlannedRun(point=point, config=config, config_hash=config_hash))
    plan.note = getattr(points, "note", "") or ""
    plan.state = getattr(points, "state", None)
    if plan.calls > limit:
        raise SweepRequestInvalid(
            {"parameter_space": [
                f"This sweep plans {plan.calls:,} LLM calls ({len(plan.runs):,} runs × {len(items)} items × "
                f"{repeats} repeats × {stages} stages); the limit is {limit:,}. Narrow the space, sample "
                f"fewer items or use a random sweep with a smaller n."
            ]}
        )
    return plan

"""Turn a sweep request into the list of runs to execute, and estimate what it will cost."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

from apps.core.errors import InvalidInput
from apps.core.ids import is_uuid
from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.engine.hashing import sha256_of
from apps.engine.planners import PlanError, get_planner
from apps.engine.planners.base import gc_paused
from apps.engine.planners.configs import PointConfigs

if TYPE_CHECKING:
    from apps.experiments.models import Experiment


@dataclass
class PlannedRun:
    point: dict
    config_hash: str
    config_json: str | None = None  # config and point as their JSONField stores them, for bulk inserts
    point_json: str | None = None
    built: dict | None = None
    build: Callable[[dict], dict] | None = field(default=None, repr=False)

    @property
    def config(self) -> dict:
        """The run's config, built on first use; it shares untouched parts with other runs: read-only."""
        if self.built is None:
            self.built = self.build(self.point)
        return self.built


@dataclass
class Plan:
    kind: str
    items: list[dict]
    repeats: int
    parameter_space: list
    runs: list[PlannedRun] = field(default_factory=list)
    note: str = ""
    state: dict | None = None  # guided search state after the first batch
    base: dict = field(default_factory=dict)
    limit: int = 0
    points: list[dict] | None = None  # drawn, not yet turned into runs (a deferred plan)
    options: dict = field(default_factory=dict)  # the planner's options, validated (defaults filled in)

    @property
    def calls(self) -> int:
        stages = len(self.runs[0].config["stages"]) if self.runs else 0
        return len(self.runs) * len(self.items) * self.repeats * stages


def samples_fingerprint(items: list[dict]) -> str:
    return sha256_of(items)


class EndpointIdentities:
    """Endpoint id → what a config hash shows for it: its label (unique per owner), so that the same experiment
    file applied on another server, whose endpoints have the same labels, plans runs with the same hashes
    (docs/decisions.md). Looked up on first use; an id that names no endpoint (deleted since) stays itself."""

    def __init__(self, ids: Iterable = ()) -> None:
        self.known: dict[str, str] = {}
        self.load(ids)

    def load(self, ids: Iterable) -> None:
        wanted = {}
        for value in ids:
            if isinstance(value, str) and value not in self.known:
                self.known[value] = value
                try:
                    wanted[uuid.UUID(value)] = value
                except ValueError:
                    continue
        if wanted:
            for pk, label in Endpoint.objects.filter(pk__in=list(wanted)).values_list("pk", "label"):
                self.known[wanted[pk]] = f"endpoint:{label}"

    def __call__(self, value):
        if not isinstance(value, str):
            return value
        if value not in self.known:
            self.load([value])
        return self.known[value]


def _stage_endpoints(config: dict) -> list:
    stages = config.get("stages") if isinstance(config, dict) else None
    return [stage.get("endpoint") for stage in stages if isinstance(stage, dict)] if isinstance(stages, list) else []


def config_portable(config: dict, identity: Callable[[object], object]) -> dict:
    """The config as its hash sees it: each stage's endpoint id replaced by its identity."""
    stages = config.get("stages") if isinstance(config, dict) else None
    if not isinstance(stages, list):
        return config
    return {**config, "stages": [{**stage, "endpoint": identity(stage["endpoint"])}
                                 if isinstance(stage, dict) and "endpoint" in stage else stage for stage in stages]}


def run_config_hash(*, config: dict, items_fingerprint: str, repeats: int,
                    identities: EndpointIdentities | None = None) -> str:
    """What identifies a run's configuration: its stages (endpoints by label), its items and its repeats."""
    identities = identities or EndpointIdentities(_stage_endpoints(config))
    return sha256_of({"config": config_portable(config, identities), "samples": items_fingerprint,
                      "repeats": repeats})


def planned_runs(*, base: dict, points: list[dict], items_fingerprint: str, repeats: int) -> list[PlannedRun]:
    """One run per distinct config, in point order; each hash equals `run_config_hash` of its config."""
    with gc_paused():
        return list(planned_runs_iter(base=base, points=points, items_fingerprint=items_fingerprint, repeats=repeats))


def planned_runs_iter(*, base: dict, points: list[dict], items_fingerprint: str, repeats: int) -> Iterator[PlannedRun]:
    """`planned_runs`, one at a time (a sweep start inserts each while the next is built).

    Not a generator itself: every endpoint label is read here, before the first run is taken, because a
    sweep start consumes the runs inside a COPY (PostgreSQL), where no other query may run.
    """
    paths = list(points[0]) if points else []
    endpoint_paths = [path for path in paths if path.endswith(".endpoint")]
    identities = EndpointIdentities(_stage_endpoints(base))
    identities.load(point.get(path) for point in points for path in endpoint_paths)
    configs = PointConfigs(
        base, paths, hash_wrap=lambda config: {"config": config_portable(config, identities),
                                               "samples": items_fingerprint, "repeats": repeats},
        hash_values={path: identities for path in endpoint_paths})
    return _distinct_runs(configs, points)


def _distinct_runs(configs: PointConfigs, points: list[dict]) -> Iterator[PlannedRun]:
    seen = set()
    for point in points:
        hash_input, config_json, point_json = configs.texts(point)
        config_hash = hashlib.sha256(hash_input.encode()).hexdigest()
        if config_hash not in seen:
            seen.add(config_hash)
            yield PlannedRun(point=point, config_hash=config_hash, config_json=config_json, point_json=point_json,
                             build=configs.config)


def plan_runs_stream(plan: Plan) -> Iterator[PlannedRun]:
    """The runs of a plan made with `deferred=True`, appended to `plan.runs` as they are yielded; the call
    limit is checked once all are (raising InvalidInput, so the caller's transaction rolls back).

    The endpoint labels are read on the call, not on the first run taken (see `planned_runs_iter`).
    """
    runs = planned_runs_iter(base=plan.base, points=plan.points, items_fingerprint=samples_fingerprint(plan.items),
                             repeats=plan.repeats)

    def stream() -> Iterator[PlannedRun]:
        for run in runs:
            plan.runs.append(run)
            yield run
        _calls_check(plan)

    return stream()


def select_items(
    *, experiment: Experiment, sample_ids: list[str] | None, inline: list[dict] | None = None
) -> list[dict]:
    """The experiment's items (or `inline` ones), narrowed to `sample_ids` in their own order; unknown ids refused."""
    items = list(inline if inline is not None else experiment.sample_data)
    if sample_ids is None:
        return items
    wanted = [str(s) for s in sample_ids]
    known = {str(item["id"]) for item in items}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InvalidInput(errors={"sample_ids": [f"Unknown sample item id(s): {', '.join(unknown[:10])}"]})
    chosen = set(wanted)
    return [item for item in items if str(item["id"]) in chosen]


def sweep_plan(
    *, experiment: Experiment, kind: str, parameter_space: list, repeats: int, n: int | None = None,
    seed: int | None = None, sample_ids: list[str] | None = None, deferred: bool = False,
    options: dict | None = None,
) -> Plan:
    """Expand the space into runs (deduplicated), refusing plans over the call limit.

    With `deferred`, only the points are drawn: `plan_runs_stream(plan)` then yields the runs.
    """
    items = select_items(experiment=experiment, sample_ids=sample_ids)
    if not items:
        raise InvalidInput(errors={"sample_ids": ["The sweep has no sample items to run."]})
    limit = SystemSettings.load().max_calls_per_sweep or settings.MAX_CALLS_PER_SWEEP
    stages = len(experiment.pipeline_stages)
    per_run = len(items) * repeats * stages
    max_points = max(1, limit // max(per_run, 1))
    try:
        planner = get_planner(kind, options)
        planner.stages_check(experiment.pipeline_stages)
        points = planner.plan(parameter_space, n=n, seed=seed, max_points=max_points)
    except PlanError as exc:
        message = str(exc)
        if "limit" in message:
            message += (f" A sweep may make at most {limit:,} LLM calls and each configuration here costs "
                        f"{per_run:,} ({len(items)} items × {repeats} repeats × {stages} stages).")
        raise InvalidInput(errors={exc.field: [message]}) from exc
    _option_endpoints_check(planner, experiment)
    plan = Plan(kind=kind, items=items, repeats=repeats, parameter_space=parameter_space,
                base={"stages": experiment.pipeline_stages}, limit=limit, options=planner.options)
    plan.note = getattr(points, "note", "") or ""
    plan.state = getattr(points, "state", None)
    if deferred:
        plan.points = points
        return plan
    plan.runs = planned_runs(base=plan.base, points=points, items_fingerprint=samples_fingerprint(items),
                             repeats=repeats)
    _calls_check(plan)
    return plan


def _option_endpoints_check(planner, experiment: Experiment) -> None:
    """Every endpoint a planner's options name (a proposer's, an agent's) must be the experiment owner's."""
    named = planner.endpoint_options()
    owned = {str(pk) for pk in Endpoint.objects.filter(
        pk__in=[v for v in named.values() if is_uuid(v)], owner_id=experiment.project.owner_id,
    ).values_list("pk", flat=True)}
    errors = {field: ["No such endpoint."] for field, value in named.items() if str(value) not in owned}
    if errors:
        raise InvalidInput(errors=errors)


def _calls_check(plan: Plan) -> None:
    if plan.calls > plan.limit:
        stages = len(plan.base["stages"])
        raise InvalidInput(errors=
            {"parameter_space": [
                f"This sweep plans {plan.calls:,} LLM calls ({len(plan.runs):,} runs × {len(plan.items)} items × "
                f"{plan.repeats} repeats × {stages} stages); the limit is {plan.limit:,}. Narrow the space, sample "
                f"fewer items or use a random sweep with a smaller n."
            ]}
        )

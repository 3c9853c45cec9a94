"""Single-run actions: ad-hoc runs, approve/reject, fork, cache invalidation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.errors import InvalidInput
from apps.core.types import Id
from apps.experiments.models import Experiment
from apps.experiments.services import experiment_point_validate, experiment_validate
from apps.runs.models import ResponseCache, Run, StageResult, Sweep
from apps.runs.services.planning import run_config_hash, samples_fingerprint
from apps.runs.services.sweeps import sweep_enqueue

if TYPE_CHECKING:
    from apps.accounts.models import User


def _config_data(experiment: Experiment, **overrides) -> dict:
    return {
        "name": experiment.name, "description": experiment.description, "sample_data": experiment.sample_data,
        "pipeline_stages": experiment.pipeline_stages, "scoring_config": experiment.scoring_config,
        "parameter_space": experiment.parameter_space, "repeats": experiment.repeats,
        "budget_tokens": experiment.budget_tokens,
        "budget_usd": None if experiment.budget_usd is None else float(experiment.budget_usd),
    } | overrides


def _validate(*, user: User, experiment: Experiment, **overrides) -> dict:
    return experiment_validate(user=user, data=_config_data(experiment, **overrides))


def parameter_space_validate(*, user: User, experiment: Experiment, parameter_space: list) -> list:
    """The normalized space, or InvalidInput keyed `parameter_space.…` (other fields are known good)."""
    try:
        return _validate(user=user, experiment=experiment, parameter_space=parameter_space)["parameter_space"]
    except InvalidInput as exc:
        errors = {k: v for k, v in exc.errors.items() if k.startswith("parameter_space")}
        raise InvalidInput(errors=errors or exc.errors) from exc


def run_adhoc(*, user: User, experiment: Experiment, point: dict | None = None, pipeline_stages: list | None = None,
              items: list | None = None, repeats: int | None = None) -> Run:
    """One configuration over the experiment's samples (or inline items), run by a worker now.

    The stages with the point applied are validated as a whole, like a saved experiment's.
    """
    # The experiment's parameter space is not part of what this run executes.
    overrides: dict = {"parameter_space": []}
    if pipeline_stages is not None:
        overrides["pipeline_stages"] = pipeline_stages
    if items is not None:
        overrides["sample_data"] = items
    data = _config_data(experiment, **overrides)
    valid, point = experiment_point_validate(user=user, data=data, point=point or {})
    config = {"stages": valid["pipeline_stages"]}
    repeats = repeats or experiment.repeats
    run_items = valid["sample_data"]
    with transaction.atomic():
        sweep = Sweep.objects.create(
            experiment=experiment, kind=Sweep.Kind.SINGLE, status=Sweep.Status.PENDING, repeats=repeats,
            created_by=user, runs_total=1,
            calls_total=len(run_items) * repeats * len(config["stages"]),
            request={"type": "single", "point": point, "items": run_items if items is not None else None},
        )
        run = Run.objects.create(
            experiment=experiment, sweep=sweep, position=0, config=config, point=point,
            config_hash=run_config_hash(config=config, items_fingerprint=samples_fingerprint(run_items),
                                        repeats=repeats),
        )
        sweep_enqueue(sweep_id=sweep.pk)
    return run


APPROVAL_KINDS = {Run.Approval.APPROVED: Kind.RUN_APPROVED, Run.Approval.REJECTED: Kind.RUN_REJECTED,
                  Run.Approval.NONE: Kind.RUN_APPROVAL_CLEARED}


def run_set_approval(*, run: Run, approval: str) -> Run:
    """Approve, reject, or (approval "") clear the decision back to none."""
    kind = APPROVAL_KINDS[Run.Approval(approval)]
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(approval=approval)
        event_emit(kind=kind, experiment=run.experiment, sweep=run.sweep_id, run_id=run.pk,
                   payload={"run_id": str(run.pk), "config": run.point})
    run.approval = approval
    return run


def experiment_fork(*, user: User, run: Run, parameter_space: list, name: str | None = None) -> Experiment:
    """A new experiment whose stages are this run's configuration, with a new parameter space."""
    source = run.experiment
    # Validated for the forking user: a run's stored config is not trusted to name only their endpoints.
    valid = _validate(user=user, experiment=source, pipeline_stages=(run.config or {}).get("stages"),
                      parameter_space=parameter_space, name=name or f"{source.name} (fork)")
    with transaction.atomic():
        fork = Experiment.objects.create(project=source.project, **valid)
        event_emit(kind=Kind.EXPERIMENT_FORKED, experiment=source, run_id=run.pk,
                   payload={"from_run": str(run.pk), "new_experiment": str(fork.pk)})
    return fork


def cache_invalidate(*, owner_id: Id, runs: QuerySet[Run], sweeps: QuerySet[Sweep] | None = None) -> int:
    """Delete `owner_id`'s cached responses behind these runs' calls, and behind the planner calls (a
    proposer's, an agent's) of these `sweeps`; the next sweep pays for them again."""
    keys = set(StageResult.objects.filter(run__in=runs).exclude(cache_key="").values_list("cache_key", flat=True))
    origins = []
    for sweep_id, request in (sweeps.values_list("pk", "request") if sweeps is not None else []):
        # The entries a sweep's planner stored name the sweep as their origin; the ones it read from
        # another sweep's calls are known by their keys only.
        origins.append(str(sweep_id))
        keys.update((request or {}).get("planner_cache_keys") or [])
    deleted = 0
    keys_list = list(keys)
    for start in range(0, len(keys_list), 500):
        chunk = keys_list[start : start + 500]
        deleted += ResponseCache.objects.filter(owner_id=owner_id, key__in=chunk).delete()[0]
    for start in range(0, len(origins), 500):
        chunk = origins[start : start + 500]
        deleted += ResponseCache.objects.filter(owner_id=owner_id, origin_run__in=chunk).delete()[0]
    return deleted


def cache_invalidate_run(*, run: Run) -> int:
    deleted = cache_invalidate(owner_id=run.experiment.project.owner_id, runs=Run.objects.filter(pk=run.pk))
    event_emit(kind=Kind.CACHE_INVALIDATED, experiment=run.experiment, run_id=run.pk, payload={"entries": deleted})
    return deleted


def cache_invalidate_experiment(*, experiment: Experiment) -> int:
    deleted = cache_invalidate(owner_id=experiment.project.owner_id, runs=Run.objects.filter(experiment=experiment),
                               sweeps=Sweep.objects.filter(experiment=experiment))
    event_emit(kind=Kind.CACHE_INVALIDATED, experiment=experiment, payload={"entries": deleted,
                                                                            "at": timezone.now().isoformat()})
    return deleted

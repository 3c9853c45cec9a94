"""Sweep lifecycle: start (plan in one transaction, one driver task), pause, resume, stop, redirect."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.errors import Conflict, InvalidInput
from apps.core.types import Id
from apps.engine.planners import planner_for, redirect_kinds
from apps.experiments.models import Experiment
from apps.runs.models import Run, Sweep
from apps.runs.services.adaptive import adaptive_options_check
from apps.runs.services.budget import budget_checked, plan_budget_require
from apps.runs.services.guided import guided_request
from apps.runs.services.planning import Plan, plan_runs_stream, sweep_plan
from apps.runs.services.run_rows import runs_insert, wal_checkpoint_deferred
from apps.runs.services.transitions import SWEEP_FINAL, experiment_status_sync, sweep_transition

if TYPE_CHECKING:
    from apps.accounts.models import User

DRIVER_TASK = "apps.runs.tasks.sweep_drive"


def sweep_enqueue(*, sweep_id: Id) -> None:
    """Ring the doorbell after commit: the driver re-reads everything from the database."""
    transaction.on_commit(lambda: async_task(DRIVER_TASK, str(sweep_id), task_name=f"sweep {sweep_id}"))


def _bulk_runs(*, sweep: Sweep, experiment: Experiment, plan: Plan, start_position: int) -> int:
    return runs_insert(sweep=sweep, experiment=experiment, planned=plan.runs, start_position=start_position)


def _refuse_if_in_progress(*, experiment_id: Id) -> None:
    in_progress = [Sweep.Status.PENDING, Sweep.Status.RUNNING]
    if Sweep.objects.filter(experiment_id=experiment_id, status__in=in_progress).exists():
        raise Conflict("This experiment already has a sweep in progress; pause or stop it first.")


def sweep_start(
    *, user: User, experiment: Experiment, kind: str, repeats: int | None = None, n: int | None = None,
    seed: int | None = None, sample_ids: list[str] | None = None, parameter_space: list | None = None,
    budget_tokens: int | None = None, budget_usd: Decimal | None = None, batch: int | None = None,
    options: dict | None = None, over_budget: str = "pause",
) -> tuple[Sweep, Plan]:
    """Plan every run up front and enqueue one driver task; all or nothing. `options` are the planner's own
    (validated by it, errors keyed `options.<name>`; kept in `Sweep.request["options"]`)."""
    _refuse_if_in_progress(experiment_id=experiment.pk)
    space = experiment.parameter_space if parameter_space is None else parameter_space
    repeats = repeats or experiment.repeats
    guided = None
    planner = planner_for(kind)
    if planner is not None and planner.adaptive:
        if not experiment.spec.scoring.weighted:
            raise InvalidInput(errors={"type": [f"A {kind} sweep steers by score: add a weighted scorer first."]})
        first = min(n or batch or 4, batch or 4) if planner.batched else n
        plan = sweep_plan(experiment=experiment, kind=kind, parameter_space=space, repeats=repeats,
                          n=first, seed=seed, sample_ids=sample_ids, options=options)
        guided = guided_request(n=n or 20, batch=batch, state=plan.state)
        adaptive_options_check(kind, user=user, options=options or {})
    else:
        plan = sweep_plan(experiment=experiment, kind=kind, parameter_space=space, repeats=repeats, n=n, seed=seed,
                          sample_ids=sample_ids, deferred=not budget_checked(over_budget=over_budget), options=options)
    budget_tokens = budget_tokens if budget_tokens is not None else experiment.budget_tokens
    budget_usd = budget_usd if budget_usd is not None else experiment.budget_usd
    # Refused before anything is written: over the server's token limit, or over a budget with "refuse".
    plan_budget_require(plan=plan, owner_id=experiment.project.owner_id, over_budget=over_budget,
                        budget_tokens=budget_tokens, budget_usd=budget_usd, configurations=guided and guided["n"])
    with wal_checkpoint_deferred(), transaction.atomic():
        # Checked again under the experiment's lock: of two concurrent starts, the second sees the first's sweep.
        Experiment.objects.select_for_update(no_key=True).only("pk").get(pk=experiment.pk)
        _refuse_if_in_progress(experiment_id=experiment.pk)
        sweep = Sweep.objects.create(
            experiment=experiment, kind=kind, status=Sweep.Status.PENDING, parameter_space=space, seed=seed,
            repeats=repeats, sample_ids=sample_ids, created_by=user,
            budget_tokens=budget_tokens, budget_usd=budget_usd,
            request={"type": kind, "n": n, "seed": seed, "repeats": repeats, "sample_ids": sample_ids,
                     "options": options or {},
                     **({"guided": guided} if guided else {})},
        )
        if plan.points is not None:  # runs are built while they are inserted; too many calls rolls it all back
            sweep.runs_total = runs_insert(sweep=sweep, experiment=experiment, planned=plan_runs_stream(plan),
                                           start_position=0, at_most=len(plan.points))
        else:
            sweep.runs_total = _bulk_runs(sweep=sweep, experiment=experiment, plan=plan, start_position=0)
        sweep.calls_total = plan.calls
        if guided and plan.runs:
            sweep.calls_total = plan.calls // len(plan.runs) * guided["n"]  # the whole budget of configurations
        sweep.save(update_fields=["runs_total", "calls_total"])
        experiment_status_sync(experiment_id=experiment.pk, updated_at=timezone.now())
        event_emit(kind=Kind.SWEEP_STARTED, experiment=experiment, sweep=sweep,
                   payload={"type": kind, "runs": sweep.runs_total, "calls": plan.calls, "repeats": repeats})
        sweep_enqueue(sweep_id=sweep.pk)
    return sweep, plan


def _latest_sweep(experiment: Experiment, statuses) -> Sweep:
    sweep = experiment.sweeps.filter(status__in=statuses).order_by("-created_at").first()
    if sweep is None:
        raise Conflict(f"No sweep of this experiment is {' or '.join(statuses)}.")
    return sweep


def _steer(experiment: Experiment, *, statuses: list[str], to: str, verb: str, **fields) -> Sweep:
    """Move the latest sweep in `statuses` to `to`; a conflict if there is none or it moved on meanwhile."""
    sweep = _latest_sweep(experiment, statuses)
    moved = sweep_transition(sweep_id=sweep.pk, to=to, only_from=statuses, **fields)
    if moved is None:
        raise _moved_on(Sweep.objects.filter(pk=sweep.pk).values_list("status", flat=True).first(), verb)
    return moved


def _moved_on(status: str | None, verb: str) -> Conflict:
    """The conflict of a steering action that lost a race (the driver or another user came first)."""
    return Conflict(f"The sweep is {status or 'gone'} now; it can no longer be {verb}.")


def sweep_pause(*, experiment: Experiment, reason: str = "paused by user") -> Sweep:
    """In-flight calls finish; nothing new starts. The driver exits once it has drained."""
    with transaction.atomic():
        sweep = _steer(experiment, statuses=[Sweep.Status.PENDING, Sweep.Status.RUNNING], to=Sweep.Status.PAUSED,
                       verb="paused", pause_reason=reason)
        event_emit(kind=Kind.SWEEP_PAUSED, experiment=experiment, sweep=sweep, payload={"reason": reason})
    sweep.refresh_from_db()
    return sweep


def sweep_resume(*, experiment: Experiment) -> Sweep:
    with transaction.atomic():
        sweep = _steer(experiment, statuses=[Sweep.Status.PAUSED], to=Sweep.Status.RUNNING, verb="resumed",
                       pause_reason="")
        event_emit(kind=Kind.SWEEP_RESUMED, experiment=experiment, sweep=sweep)
        sweep_enqueue(sweep_id=sweep.pk)
    sweep.refresh_from_db()
    return sweep


def sweep_stop(*, experiment: Experiment) -> Sweep:
    """Cancel every pending run now; the driver cancels the in-flight ones after their calls."""
    with transaction.atomic():
        # Stopped first: holding the sweep's row, no driver can complete it while its runs are cancelled.
        sweep = _steer(experiment, statuses=[Sweep.Status.PENDING, Sweep.Status.RUNNING, Sweep.Status.PAUSED],
                       to=Sweep.Status.STOPPED, verb="stopped", finished_at=timezone.now())
        cancelled = Run.objects.filter(sweep=sweep, status=Run.Status.PENDING).update(
            status=Run.Status.CANCELLED, completed_at=timezone.now()
        )
        event_emit(kind=Kind.SWEEP_STOPPED, experiment=experiment, sweep=sweep, payload={"cancelled_runs": cancelled})
    from apps.runs.services.recording import sweep_refresh_totals

    sweep_refresh_totals(sweep_id=sweep.pk)
    sweep.refresh_from_db()
    return sweep


def sweep_redirect(*, experiment: Experiment, parameter_space: list, kind: str | None = None, n: int | None = None,
                   seed: int | None = None, dry_run: bool = False) -> tuple[Sweep, int, int]:
    """Replace the unstarted remainder of the plan; started and finished runs are kept.

    Returns the sweep, the queued runs dropped and the runs planned; `dry_run` counts them and writes nothing.
    """
    sweep = _latest_sweep(experiment, [Sweep.Status.PENDING, Sweep.Status.RUNNING, Sweep.Status.PAUSED])
    refusal = getattr(planner_for(sweep.kind), "redirect_refusal", "")
    if refusal:
        raise Conflict(refusal)
    kind = kind or (sweep.kind if sweep.kind in redirect_kinds() else "grid")
    plan = sweep_plan(experiment=experiment, kind=kind, parameter_space=parameter_space, repeats=sweep.repeats,
                      n=n, seed=seed, sample_ids=sweep.sample_ids)
    if dry_run:
        queued = Run.objects.filter(sweep=sweep, status=Run.Status.PENDING)
        kept = set(Run.objects.filter(sweep=sweep).exclude(status=Run.Status.PENDING)
                   .values_list("config_hash", flat=True))
        return sweep, queued.count(), sum(1 for planned in plan.runs if planned.config_hash not in kept)
    with transaction.atomic():
        locked = Sweep.objects.select_for_update().get(pk=sweep.pk)
        if locked.status in SWEEP_FINAL:
            raise _moved_on(locked.status, "redirected")
        # delete() also counts the rows it cascades to (a requeued run's events): count the runs only.
        _, deleted = Run.objects.filter(sweep=locked, status=Run.Status.PENDING).delete()
        removed = deleted.get(Run._meta.label, 0)
        kept = set(Run.objects.filter(sweep=locked).values_list("config_hash", flat=True))
        plan.runs = [p for p in plan.runs if p.config_hash not in kept]
        start = (Run.objects.filter(sweep=locked).aggregate(m=Max("position"))["m"] or 0) + 1
        added = _bulk_runs(sweep=locked, experiment=experiment, plan=plan, start_position=start)
        locked.parameter_space = parameter_space
        locked.runs_total = Run.objects.filter(sweep=locked).count()
        locked.save(update_fields=["parameter_space", "runs_total"])
        event_emit(kind=Kind.SWEEP_REDIRECTED, experiment=experiment, sweep=locked,
                   payload={"removed_runs": removed, "added_runs": added, "parameter_space": parameter_space})
        if locked.status == Sweep.Status.RUNNING:
            sweep_enqueue(sweep_id=locked.pk)
    locked.refresh_from_db()
    return locked, removed, added


__all__ = ["sweep_start", "sweep_pause", "sweep_resume", "sweep_stop",
           "sweep_redirect", "sweep_enqueue"]

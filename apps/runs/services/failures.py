"""When execution itself goes wrong: fail one run, count driver crashes, fail a sweep that keeps crashing.

Crashes are counted as `driver.crashed` Event rows, so the count outlives the worker. A sweep
fails after DRIVER_FAILURE_LIMIT crashes with no run finishing in between. A SIGKILLed driver
never gets to write one, so only real exceptions count (the reconciler simply re-rings those).
"""

from __future__ import annotations

from collections.abc import Container

from django.db import DatabaseError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.activity.services import event_emit
from apps.core.logging import redact
from apps.core.types import Id
from apps.runs.models import Run, Sweep
from apps.runs.services.recording import sweep_refresh_totals
from apps.runs.services.transitions import sweep_transition

DRIVER_FAILURE_LIMIT = 3
ERROR_CHARS = 1000
ACTIVE = [Sweep.Status.PENDING, Sweep.Status.RUNNING]
# A run finishing (or a resume) shows the driver got somewhere: failures before it no longer count.
PROGRESS = [Kind.RUN_COMPLETED, Kind.RUN_FAILED, Kind.RUN_CACHED, Kind.SWEEP_RESUMED]


class RunUnexecutable(Exception):
    """A run that cannot start as stored (its message is shown to the user as is)."""


def is_infrastructure(exc: BaseException) -> bool:
    """A database error is no fault of the run: the driver fails, and is counted, instead."""
    return isinstance(exc, DatabaseError)


def error_text(exc: BaseException) -> str:
    """An unexpected exception as the user sees it: type and message, secrets redacted, capped."""
    if isinstance(exc, RunUnexecutable):
        return str(exc)[:ERROR_CHARS]
    message = " ".join(str(exc).split())
    return redact(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)[:ERROR_CHARS]


def endpoints_check(*, config: dict, available: Container[str]) -> None:
    """Raise RunUnexecutable naming every stage whose endpoint the driver could not load."""
    missing = [f"stage '{stage.get('name') or index}': endpoint {stage.get('endpoint')} is not available"
               for index, stage in enumerate(config.get("stages") or [])
               if str(stage.get("endpoint")) not in available]
    if missing:
        raise RunUnexecutable(f"{'; '.join(missing)} (deleted, or not owned by the experiment's owner)")


def run_fail(*, run_id: str, owner: str, error: str, duration_ms: int) -> bool:
    """Fail a run this driver holds, with its error and a `run.failed` event; False if the lease was lost."""
    with transaction.atomic():
        updated = Run.objects.filter(id=run_id, lease_owner=owner, status=Run.Status.RUNNING).update(
            status=Run.Status.FAILED, error=error[:4000], completed_at=timezone.now(), duration_ms=duration_ms,
            lease_owner="", lease_expires_at=None,
        )
        if not updated:
            return False
        run = Run.objects.select_related("experiment__project").get(id=run_id)
        event_emit(kind=Kind.RUN_FAILED, experiment=run.experiment, sweep=run.sweep_id, run_id=run.pk, payload={
            "run_id": str(run.pk), "status": Run.Status.FAILED, "duration_ms": duration_ms,
            "weighted_score": None, "error": error[:500],
        })
    return True


def driver_failure_record(*, sweep_id: Id, owner: str, error: str, limit: int = DRIVER_FAILURE_LIMIT) -> bool:
    """Record a driver that raised: free its runs, and fail the sweep at `limit` failures in a row.

    Returns True when this failure failed the sweep.
    """
    with transaction.atomic():
        sweep = (Sweep.objects.select_for_update(of=("self",)).select_related("experiment__project")
                 .filter(pk=sweep_id).first())
        if sweep is None:
            return False
        # Its in-flight runs go back to the plan at once rather than when their leases expire.
        back = Run.Status.PENDING if sweep.status in [*ACTIVE, Sweep.Status.PAUSED] else Run.Status.CANCELLED
        released = Run.objects.filter(sweep=sweep, status=Run.Status.RUNNING, lease_owner=owner).update(
            status=back, lease_owner="", lease_expires_at=None
        )
        if sweep.status not in ACTIVE:
            return False
        since = Event.objects.filter(sweep=sweep, kind__in=PROGRESS).aggregate(last=Max("id"))["last"] or 0
        failures = Event.objects.filter(sweep=sweep, kind=Kind.DRIVER_CRASHED, id__gt=since).count() + 1
        event_emit(kind=Kind.DRIVER_CRASHED, experiment=sweep.experiment, sweep=sweep, payload={
            "error": error[:500], "failures": failures, "limit": limit, "released_runs": released,
        })
        if failures < limit:
            return False
        return sweep_fail(sweep=sweep, error=error, failures=failures)


def sweep_fail(*, sweep: Sweep, error: str, failures: int) -> bool:
    """End a sweep as failed: finished runs stay as they are, unfinished ones are cancelled.

    False (and nothing written) when the sweep had already finished.
    """
    now = timezone.now()
    reason = f"the sweep's driver failed {failures} times in a row: {error}"
    with transaction.atomic():
        if sweep_transition(sweep_id=sweep.pk, to=Sweep.Status.FAILED, finished_at=now,
                            pause_reason=reason[:200]) is None:
            return False
        cancelled = Run.objects.filter(sweep=sweep).unfinished().update(
            status=Run.Status.CANCELLED, completed_at=now, lease_owner="", lease_expires_at=None
        )
        sweep_refresh_totals(sweep_id=sweep.pk)
        event_emit(kind=Kind.SWEEP_FAILED, experiment=sweep.experiment, sweep=sweep, payload={
            "reason": reason[:1000], "error": error[:500], "driver_failures": failures, "cancelled_runs": cancelled,
        })
    return True

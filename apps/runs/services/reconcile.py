"""Crash safety: re-ring sweeps whose driver died; the database is the source of truth."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.runs.models import Run, Sweep
from apps.runs.services.events import Kind, event_emit
from apps.runs.services.sweeps import sweep_enqueue

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=45)
RECONCILE_SCHEDULE = "Re-queue interrupted sweeps"


def sweeps_reconcile(*, stale_after: timedelta = STALE_AFTER, force: bool = False) -> int:
    """Enqueue a driver for every active sweep with no recent heartbeat (all of them with force).

    A second driver on a sweep that still has a live one is harmless: runs are claimed with leases.
    """
    cutoff = timezone.now() - stale_after
    active = Sweep.objects.filter(status__in=[Sweep.Status.PENDING, Sweep.Status.RUNNING])
    if not force:
        active = active.filter(Q(driver_heartbeat_at__lt=cutoff) | Q(driver_heartbeat_at__isnull=True, created_at__lt=cutoff))
    count = 0
    for sweep in active.select_related("experiment__project"):
        unfinished = Run.objects.filter(sweep=sweep).exclude(
            status__in=[Run.Status.COMPLETED, Run.Status.FAILED, Run.Status.CACHED, Run.Status.CANCELLED]
        )
        with transaction.atomic():
            # Touch the heartbeat so the next reconcile pass does not ring it again at once.
            Sweep.objects.filter(pk=sweep.pk).update(driver_heartbeat_at=timezone.now())
            event_emit(kind=Kind.SWEEP_INTERRUPTED, experiment=sweep.experiment, sweep=sweep,
                       payload={"unfinished_runs": unfinished.count(), "action": "driver re-queued"})
            sweep_enqueue(sweep_id=sweep.pk)
        count += 1
    if count:
        logger.info("Re-queued %d interrupted sweep(s)", count)
    return count


def reconcile_schedule_ensure() -> None:
    """One schedule row, every minute; catch_up is off in Q_CLUSTER so a long outage runs it once."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=RECONCILE_SCHEDULE,
        defaults={"func": "apps.runs.tasks.sweeps_reconcile", "schedule_type": Schedule.MINUTES, "minutes": 1,
                  "repeats": -1},
    )

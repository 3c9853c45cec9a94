"""Crash safety: re-ring sweeps whose driver died; the database is the source of truth."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.runs.models import Run, Sweep
from apps.runs.services.sweeps import sweep_enqueue

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=45)
RECONCILE_SCHEDULE = "Re-queue interrupted sweeps"


def runs_release_host(*, host: str) -> dict:
    """Put back to pending the runs leased by drivers of this host (they died with its worker).

    Only safe when no driver of this host can be alive: at worker start, before the cluster runs.
    Returns {sweep_id: released run count}.
    """
    held = Run.objects.filter(status=Run.Status.RUNNING, lease_owner__startswith=f"{host}:")
    released = dict(held.order_by().values_list("sweep_id").annotate(n=Count("id")))
    held.update(status=Run.Status.PENDING, lease_owner="", lease_expires_at=None)
    return released


def sweeps_reconcile(*, stale_after: timedelta = STALE_AFTER, force: bool = False) -> int:
    """Enqueue a driver for every active sweep with no recent heartbeat (all of them with force).

    With force (worker start), runs leased by this host's dead drivers are released first, so the
    new driver takes them over at once instead of waiting out their leases. A second driver on a
    sweep that still has a live one is harmless: runs are claimed with leases.
    """
    now = timezone.now()
    cutoff = now - stale_after
    released = runs_release_host(host=socket.gethostname()) if force else {}
    active = Sweep.objects.filter(status__in=[Sweep.Status.PENDING, Sweep.Status.RUNNING])
    stale = Q(driver_heartbeat_at__lt=cutoff) | Q(driver_heartbeat_at__isnull=True, created_at__lt=cutoff)
    if not force:
        active = active.filter(stale)
    count = 0
    for sweep in active.select_related("experiment__project"):
        was_stale = sweep.driver_heartbeat_at is None or sweep.driver_heartbeat_at < cutoff
        with transaction.atomic():
            # Touch the heartbeat so the next reconcile pass does not ring it again at once.
            Sweep.objects.filter(pk=sweep.pk).update(driver_heartbeat_at=now)
            if released.get(sweep.pk) or (was_stale and sweep.status == Sweep.Status.RUNNING):
                unfinished = Run.objects.filter(sweep=sweep).unfinished().count()
                event_emit(kind=Kind.SWEEP_INTERRUPTED, experiment=sweep.experiment, sweep=sweep,
                           payload={"unfinished_runs": unfinished, "released_runs": released.get(sweep.pk, 0),
                                    "action": "driver re-queued"})
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

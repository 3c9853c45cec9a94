"""When to try a failed delivery again: exponential backoff with jitter, about a day in all, or Retry-After."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Seconds after each failed attempt: 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h (≈ 22.7 h, 9 attempts).
RETRY_DELAYS_S = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
JITTER = 0.2
MIN_RETRY_AFTER_S = 5
SWEEP_SCHEDULE = "Send due webhook deliveries"


def retry_delay(failed_attempts: int, *, rng: random.Random | None = None) -> timedelta | None:
    """The wait after this many failed attempts of the current schedule, or None when it has ended."""
    if not 1 <= failed_attempts <= len(RETRY_DELAYS_S):
        return None
    base = RETRY_DELAYS_S[failed_attempts - 1]
    return timedelta(seconds=base * (rng or random).uniform(1 - JITTER, 1 + JITTER))


def retry_after(value: str | None, *, now: datetime, cap_s: float) -> timedelta | None:
    """A `Retry-After` header (seconds or an HTTP date) as a wait between MIN_RETRY_AFTER_S and cap_s."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError, OverflowError):
            return None
    return timedelta(seconds=min(max(seconds, MIN_RETRY_AFTER_S), cap_s))


def sweep_schedule_ensure() -> None:
    """One django-q2 schedule row, every minute, that sends whatever is due (catch_up is off)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE,
        defaults={"func": "apps.webhooks.tasks.webhook_deliveries_sweep", "schedule_type": Schedule.MINUTES,
                  "minutes": 1, "repeats": -1},
    )

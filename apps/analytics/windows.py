"""The time window an analytics read covers: a named window back from now, or explicit ISO bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.errors import InvalidInput

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}
DEFAULT_WINDOW = "7d"


@dataclass(frozen=True)
class Window:
    """[since, until): either bound may be open (None)."""

    name: str  # one of WINDOWS, or "custom" for explicit bounds
    since: datetime | None
    until: datetime | None


def _moment(field: str, value: str | datetime | None) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = parse_datetime(text)
            day = None if moment else parse_date(text)
        except ValueError:
            moment = day = None
        if moment is None and day is not None:
            moment = datetime.combine(day, time.min)
        if moment is None:
            raise InvalidInput(errors={field: ["Not an ISO 8601 date or date-time, e.g. 2025-01-31T12:00:00Z."]})
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def window_parse(*, window: str | None = None, since: str | datetime | None = None,
                 until: str | datetime | None = None, now: datetime | None = None) -> Window:
    """`window` (24h, 7d, 30d, all) back from `now`, unless `since` or `until` is given (then those bounds)."""
    start, end = _moment("since", since), _moment("until", until)
    if start is not None or end is not None:
        if window not in (None, "", "custom"):
            raise InvalidInput(errors={"window": ["Give either a window or since/until, not both."]})
        if start is not None and end is not None and start >= end:
            raise InvalidInput(errors={"until": ["Must be later than since."]})
        return Window(name="custom", since=start, until=end)
    name = window or DEFAULT_WINDOW
    if name not in WINDOWS:
        raise InvalidInput(errors={"window": [f"Unknown window; use one of {', '.join(WINDOWS)}."]})
    span = WINDOWS[name]
    return Window(name=name, since=None if span is None else (now or timezone.now()) - span, until=None)

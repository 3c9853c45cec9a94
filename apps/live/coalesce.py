"""Per-group debounce: a fast sweep sends at most one push per group every `interval` seconds.

The first events after a quiet spell go out at once (leading edge); events arriving sooner wait
for a trailing push at `last sent + interval`, which carries all of them. Pushes carry the current
state of a page region, so merging them loses nothing. Pure and clock-injected: callers own time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from apps.activity.models import Event

K = TypeVar("K")

PUSH_INTERVAL_S = 0.25  # at most four pushes per second per group (and process)


@dataclass
class Coalescer(Generic[K]):
    interval: float
    pending: dict[str, tuple[K, list[Event]]] = field(default_factory=dict)
    last_sent: dict[str, float] = field(default_factory=dict)

    def add(self, group: str, key: K, events: list[Event]) -> None:
        """Queue events for `group`; `key` (the latest wins) says how to render it."""
        _, queued = self.pending.get(group, (key, []))
        self.pending[group] = (key, queued + events)

    def due(self, now: float) -> list[tuple[K, list[Event]]]:
        """Take every group whose turn has come, marking it sent at `now`."""
        ready = [group for group in self.pending if now >= self.last_sent.get(group, float("-inf")) + self.interval]
        taken = []
        for group in ready:
            taken.append(self.pending.pop(group))
            self.last_sent[group] = now
        # Forget groups that have been quiet for a whole interval: their next push is a leading edge anyway.
        self.last_sent = {g: t for g, t in self.last_sent.items() if now - t < self.interval or g in self.pending}
        return taken

    def next_due(self) -> float | None:
        """When the earliest waiting group may be sent (None: nothing waits)."""
        times = [self.last_sent.get(group, float("-inf")) + self.interval for group in self.pending]
        return min(times) if times else None

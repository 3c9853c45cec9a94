"""Single-container live updates: the web process tails the Event table and pushes to its own sockets.

Without Redis the channel layer is in-memory, so a worker process cannot reach it. While at least
one live socket is open, a task on the web process's event loop polls for new Event rows (an
indexed `id >` query), routes them to the groups that have local members, coalesces and pushes
them. Why this option: docs/decisions.md ("Live updates without Redis").
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from channels.layers import get_channel_layer
from django.db import close_old_connections, connections
from django.db.models import Max

from apps.activity.models import Event
from apps.live.coalesce import PUSH_INTERVAL_S, Coalescer
from apps.live.groups import Target, guests_allowed, targets_for
from apps.live.pushes import push_build

logger = logging.getLogger(__name__)

POLL_S = 0.1
# PostgreSQL may commit a lower id after a higher one; ids stay "open" this long before the tail
# moves past a gap (SQLite, the usual single-container database, writes one transaction at a time).
GRACE_S = 2.0


class EventTail:
    """New Event rows since the tail started, each returned once, tolerant of out-of-order commits."""

    def __init__(self) -> None:
        self.floor = Event.objects.aggregate(top=Max("id"))["top"] or 0
        self.recent: dict[int, float] = {}  # ids above the floor already returned, with when

    def poll(self, now: float) -> list[Event]:
        ids = Event.objects.filter(id__gt=self.floor).values_list("id", flat=True)
        new = [pk for pk in ids if pk not in self.recent]
        self.recent.update((pk, now) for pk in new)
        settled = [pk for pk, seen in self.recent.items() if now - seen >= GRACE_S]
        if settled:
            self.floor = max(settled)
            self.recent = {pk: seen for pk, seen in self.recent.items() if pk > self.floor}
        return list(Event.objects.filter(id__in=new).order_by("id")) if new else []


class Relay:
    """One per event loop: runs while it has subscribers (open live sockets)."""

    def __init__(self) -> None:
        self.subscribers = 0
        self.task: asyncio.Task | None = None
        self.starting = asyncio.Lock()

    async def subscribe(self) -> None:
        """Count a socket in; the first starts the tail, so events recorded after this returns arrive."""
        self.subscribers += 1
        async with self.starting:
            if self.task is None or self.task.done():
                # Its own database thread: asgiref's one sync thread serves the pages' views.
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-relay")
                tail = await asyncio.get_running_loop().run_in_executor(pool, EventTail)
                self.task = asyncio.create_task(self._run(pool, tail), name="live-relay")

    def unsubscribe(self) -> None:
        self.subscribers = max(0, self.subscribers - 1)

    async def _run(self, pool: ThreadPoolExecutor, tail: EventTail) -> None:
        coalescer: Coalescer[Target] = Coalescer(PUSH_INTERVAL_S)
        loop = asyncio.get_running_loop()
        try:
            while self.subscribers:
                layer = get_channel_layer()
                active = set(layer.groups)  # only groups with a socket in this process are rendered
                try:
                    pushes = await loop.run_in_executor(pool, _tick, tail, coalescer, time.monotonic(), active)
                    for target, message in pushes:
                        await layer.group_send(target.group, message)
                except Exception:
                    logger.exception("live relay: a tick failed")
                await asyncio.sleep(POLL_S)
        finally:
            pool.submit(connections.close_all)  # runs on the relay thread, closing its own connection
            pool.shutdown(wait=False)


def _tick(tail: EventTail, coalescer: Coalescer[Target], now: float, active: set[str]) -> list[tuple[Target, dict]]:
    """On the relay's database thread: new events, routed to local groups, coalesced and rendered."""
    close_old_connections()
    events = tail.poll(now)
    if events:
        for target, batch in targets_for(events, guests=guests_allowed()).items():
            if target.group in active:
                coalescer.add(target.group, target, batch)
    return [(target, push_build(target, batch)) for target, batch in coalescer.due(now)]


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay] = weakref.WeakKeyDictionary()


def relay() -> Relay:
    """The relay of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _relays:
        _relays[loop] = Relay()
    return _relays[loop]

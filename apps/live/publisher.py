"""Pushes recorded events to the live groups, after commit, coalesced per group.

Two modes, chosen by the channel layer (docs/decisions.md, "Live updates without Redis"):
- a cross-process layer (channels-redis, with REDIS_URL): every process that records events, web
  or worker, publishes them itself through one background thread per process;
- the in-memory layer (single container): another process's messages could never arrive, so the
  hook does nothing and the relay (apps.live.relay) in the web process tails the Event table.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import close_old_connections, connection, transaction

from apps.activity.models import Event
from apps.live.coalesce import PUSH_INTERVAL_S, Coalescer
from apps.live.groups import Target, guests_allowed, targets_for
from apps.live.pushes import push_build

logger = logging.getLogger(__name__)


def relay_mode() -> bool:
    """True when the channel layer lives in this process only (no Redis): the relay delivers."""
    return isinstance(get_channel_layer(), InMemoryChannelLayer)


def events_recorded(events: list[Event]) -> None:
    """The activity hook: runs inside the writing transaction, so it only schedules the push."""
    if relay_mode():
        return
    # robust: a failed push must never fail the service whose work has already committed.
    transaction.on_commit(lambda: _publisher().submit(list(events)), robust=True)


class Publisher:
    """One daemon thread per process: coalesces, renders (ORM, sync) and sends on its own event loop."""

    def __init__(self) -> None:
        self.coalescer: Coalescer[Target] = Coalescer(PUSH_INTERVAL_S)
        self.inbox: list[Event] = []
        self.wakeup = threading.Condition()
        self.loop = asyncio.new_event_loop()  # never running while the ORM is used, so sync queries are allowed
        self.thread = threading.Thread(target=self._run, name="live-publisher", daemon=True)
        self.thread.start()

    def submit(self, events: list[Event]) -> None:
        with self.wakeup:
            self.inbox.extend(events)
            self.wakeup.notify()

    def _run(self) -> None:
        while True:
            with self.wakeup:
                due = self.coalescer.next_due()
                if not self.inbox:
                    self.wakeup.wait(None if due is None else max(0.0, due - time.monotonic()))
                events, self.inbox = self.inbox, []
            try:
                self._flush(events)
            except Exception:
                logger.exception("live publisher: a push failed")
            finally:
                if self.coalescer.next_due() is None:
                    connection.close()  # idle: hold no database connection between bursts

    def _flush(self, events: list[Event]) -> None:
        close_old_connections()
        if events:
            for target, batch in targets_for(events, guests=guests_allowed()).items():
                self.coalescer.add(target.group, target, batch)
        layer = get_channel_layer()
        for target, batch in self.coalescer.due(time.monotonic()):
            self.loop.run_until_complete(layer.group_send(target.group, push_build(target, batch)))


_instance: tuple[int, Publisher] | None = None
_instance_lock = threading.Lock()


def _publisher() -> Publisher:
    """This process's publisher, started on first use (django-q forks workers: one per pid)."""
    global _instance
    with _instance_lock:
        if _instance is None or _instance[0] != os.getpid():
            _instance = (os.getpid(), Publisher())
        return _instance[1]

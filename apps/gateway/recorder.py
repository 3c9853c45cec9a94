"""The gateway's metrics writer: rows queue in memory and are bulk-inserted off the event loop in batches.

A reply never waits for its GatewayRequest row: `add()` appends to a list; a task on the loop flushes
every FLUSH_INTERVAL_S (or at once past MAX_BATCH rows) on the gateway's writer thread, then asks the
A/B tests in the batch that auto-complete whether they are done. A failed flush keeps its rows for the
next one (up to MAX_BUFFER). At interpreter exit (daphne's SIGTERM) what is left is written
synchronously. What a crash (SIGKILL, power loss) can lose: the rows of the last FLUSH_INTERVAL_S and of
requests still in flight.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apps.deployments.services.abtests import ab_tests_auto_complete
from apps.deployments.services.requests import gateway_requests_record

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.15
MAX_BATCH = 500
MAX_BUFFER = 100_000


class Recorder:
    """One per event loop; `run_db(fn)` runs `fn()` on the writer thread."""

    def __init__(self, run_db: Callable[[Callable[[], Any]], Awaitable[Any]]) -> None:
        self._run_db = run_db
        self._rows: list[dict[str, Any]] = []
        self._auto_tests: set[str] = set()
        self._pending = asyncio.Event()
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.written = 0
        atexit.register(self.flush_sync)

    def add(self, row: dict[str, Any], *, auto_complete_test: str | None = None) -> None:
        self._rows.append(row)
        if auto_complete_test:
            self._auto_tests.add(auto_complete_test)
        self._pending.set()
        if len(self._rows) >= MAX_BATCH:
            self._full.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await self._pending.wait()
            try:
                await asyncio.wait_for(self._full.wait(), FLUSH_INTERVAL_S)
            except TimeoutError:
                pass
            await self.flush()

    async def flush(self) -> None:
        """Write everything queued so far (and wait for a flush already under way)."""
        async with self._lock:
            rows, tests = self._rows, self._auto_tests
            self._rows, self._auto_tests = [], set()
            self._pending.clear()
            self._full.clear()
            if not rows:
                return
            try:
                self.written += await self._run_db(lambda: gateway_requests_record(rows=rows))
            except Exception:
                log.exception("gateway: writing %d request rows failed; keeping them for the next flush", len(rows))
                self._rows = (rows + self._rows)[-MAX_BUFFER:]
                self._auto_tests |= tests
                self._pending.set()
                return
            if tests:
                try:
                    await self._run_db(lambda: ab_tests_auto_complete(ab_test_ids=tests))
                except Exception:
                    log.exception("gateway: auto-completing A/B tests %s failed", sorted(tests))

    def flush_sync(self) -> None:
        """At exit, with no loop left: write what is still queued."""
        rows, self._rows = self._rows, []
        if rows:
            try:
                self.written += gateway_requests_record(rows=rows)
            except Exception:
                log.exception("gateway: %d request rows lost at exit", len(rows))

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        atexit.unregister(self.flush_sync)

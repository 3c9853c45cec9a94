"""Insert a plan's Run rows in a few statements: 10⁵ rows through `bulk_create` took most of a sweep start.

Every column except the planned ones (id, position, config, point, config_hash) gets the value
Django itself would write for a new pending run, prepared once; the JSON is pre-rendered by
planning. SQLite takes one `executemany`; PostgreSQL one `COPY` of text lines built here.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connection

from apps.engine.planners.base import gc_paused
from apps.runs.models import Run, Sweep

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

PLANNED = ("id", "position", "config", "point", "config_hash")
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)  # the version and variant bits
_VERSION_4 = (4 << 76) | (0x8000 << 48)


def runs_insert(
    *, sweep: Sweep, experiment: Experiment, planned: Iterable, start_position: int, at_most: int | None = None
) -> int:
    """Insert one pending Run per planned run (positions from start_position, in order); returns the count.

    `planned` may be a generator (a plan being built): give `at_most`, a bound on its length, then.
    PostgreSQL parses each chunk of the COPY while the next is built, so planning overlaps the insert.
    """
    count = len(planned) if at_most is None else at_most
    if not count:
        return 0
    template = Run(experiment=experiment, sweep=sweep, config={}, point={}, config_hash="")
    by_name = {f.attname: f for f in Run._meta.local_concrete_fields if not f.generated}  # the database writes those
    others = [f for name, f in by_name.items() if name not in PLANNED]
    constants = tuple(f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in others)
    # The planned columns first: a row is then five values plus one shared tuple (or text) of the rest.
    columns = [by_name[name].column for name in PLANNED] + [f.column for f in others]
    copying = connection.vendor == "postgresql"
    # Ascending ids: the primary key index grows at its end instead of touching a random page per row.
    ids = sorted(_uuid4s(count, native=connection.features.has_native_uuid_field and not copying))
    table = connection.ops.quote_name(Run._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    inserted = 0

    def numbered():
        nonlocal inserted
        for n, run in enumerate(planned):
            inserted = n + 1
            config = run.config_json if run.config_json is not None else json.dumps(run.config)
            point = run.point_json if run.point_json is not None else json.dumps(run.point)
            yield ids[n], start_position + n, config, point, run.config_hash

    with connection.cursor() as cursor, gc_paused():
        if copying:
            tail = "\t" + "\t".join(_copy_field(value) for value in constants)
            # ids, positions and hex hashes never need COPY escapes; the JSON texts may.
            lines = (f"{id_}\t{position}\t{_copy_field(config)}\t{_copy_field(point)}\t{config_hash}{tail}"
                     for id_, position, config, point, config_hash in numbered())
            _copy(cursor.cursor, f"COPY {table} ({names}) FROM STDIN", lines)
        else:
            rows = [values + constants for values in numbered()]
            if rows:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",
                                   rows)
    return inserted


@contextmanager
def wal_checkpoint_deferred() -> Iterator[None]:
    """On SQLite, leave copying a big insert's WAL into the database file to the next writer (the worker).

    SQLite checkpoints inside the commit that grows the WAL past 1,000 pages: 0.3 s of a 10⁵-run start.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(previous)}")


def _copy(raw_cursor, sql: str, lines, chunk: int = 2000) -> None:
    """COPY in text format from lines already encoded: psycopg's write_row adapts every value (2 s per 10⁵ rows).

    Written as they are built, so the server parses one chunk while the next is encoded.
    """
    with raw_cursor.copy(sql) as copy:
        batch = []
        for text in lines:
            batch.append(text)
            if len(batch) == chunk:
                copy.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            copy.write("\n".join(batch) + "\n")


def _copy_field(value) -> str:
    """One field of COPY's text format (https://www.postgresql.org/docs/current/sql-copy.html)."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _uuid4s(count: int, *, native: bool) -> list:
    """`count` random version-4 UUIDs (as SQLite stores them, 32 hex digits, unless native), from one
    urandom read: uuid.uuid4() per row was a tenth of the insert."""
    pool = os.urandom(16 * count)
    ids = []
    for start in range(0, 16 * count, 16):
        bits = int.from_bytes(pool[start : start + 16], "big") & _CLEAR | _VERSION_4
        ids.append(uuid.UUID(int=bits) if native else f"{bits:032x}")
    return ids

"""Helpers for bench/sweep_overhead.py: its scratch data, the processes it runs beside itself, profilers.

The fake LLM server, the django-q2 worker and py-spy each start in their own session, so that
stopping one ends exactly the processes it started. Memory is read from /proc (VmHWM, the peak
resident set of each process), summed over a tree. `DriverProfiler` runs the sweep driver in this
process under cProfile and times every database call and every event-loop stall.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


class Scratch:
    """A fresh DATA_DIR and, with --postgres, a scratch database created and dropped on the server."""

    def __init__(self, postgres: str | None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="promptlooper-bench-"))
        self.admin_url, self.db_name, self.database_url = postgres, None, None
        if postgres:
            import psycopg

            self.db_name = f"pl_bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(postgres, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
            parts = urlsplit(postgres)
            self.database_url = urlunsplit(parts._replace(path=f"/{self.db_name}"))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("SQLITE_PATH", "REDIS_URL", "DATABASE_URL")}
        env.update(DATA_DIR=str(self.dir), DJANGO_SETTINGS_MODULE="promptlooper.settings", LOG_LEVEL="INFO",
                   PYTHONUNBUFFERED="1")
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def remove(self) -> None:
        if self.db_name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 — the child owns it until it exits
    try:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        handle.close()


def _wait_for(proc: subprocess.Popen, log: Path, pattern: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        match = re.search(pattern, text)
        if match:
            return match.group(0)
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.02)
    raise RuntimeError(f"{proc.args[:4]} did not print {pattern!r} within {timeout_s:g}s")


def start_fake_llm(*, latency_ms: float, log: Path) -> tuple[subprocess.Popen, str]:
    """`python -m apps.fakellm.server` in its own process; returns it and its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "apps.fakellm.server", "--port", str(port), "--latency-ms", str(latency_ms)]
    proc = _spawn(args, {**os.environ, "PYTHONUNBUFFERED": "1"}, log)
    try:
        url = _wait_for(proc, log, r"http://127\.0\.0\.1:\d+/v1", 30)
    except BaseException:
        stop(proc)
        raise
    return proc, url


def start_worker(*, env: dict, log: Path, workers: int = 1) -> subprocess.Popen:
    """`manage.py qcluster` as production runs it (bin/start), once it reports itself running."""
    proc = _spawn([sys.executable, "manage.py", "qcluster"], {**env, "Q_WORKERS": str(workers)}, log)
    try:
        _wait_for(proc, log, r"Q Cluster .* running\.", 60)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen | None, *, grace_s: float = 10.0) -> None:
    """SIGTERM the process we started (qcluster drains its children), SIGKILL its group if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def peak_rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def tree_peak_rss_mb(pid: int) -> tuple[float, float]:
    """(sum of every process's peak RSS, the largest single peak) over `pid` and its descendants, MiB.

    The sum counts pages shared by forked processes once per process, so it overstates real use.
    """
    peaks = [peak_rss_kb(p) for p in process_tree(pid)]
    return sum(peaks) / 1024, max(peaks, default=0) / 1024


def cpu_seconds(pid: int, *, tree: bool = True) -> float:
    """User + system CPU of `pid` (every thread) and, with `tree`, its live descendants, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid) if tree else [pid]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def log_times(log: Path, needle: str) -> list[float]:
    """Epoch seconds of each log line containing `needle` (Django's `%(asctime)s`, local time)."""
    stamps = []
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_TIME.match(line)
        if match and needle in line:
            stamps.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return stamps


# py-spy: sample the whole worker tree ------------------------------------------------------------------
def start_py_spy(*, pid: int, out: Path) -> subprocess.Popen:
    exe = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not exe:
        raise RuntimeError("py-spy not found: `pip install --target /tmp/pyspy py-spy`, "
                           "then PY_SPY=/tmp/pyspy/bin/py-spy")
    args = [exe, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "250",
            "--output", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.0)  # py-spy attaches to every process of the tree before the first sweep starts
    return proc


def stop_py_spy(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    proc.wait(timeout=30)
    print(f"  py-spy: collapsed stacks in {proc.args[-1]}", flush=True)
    summarize_collapsed(Path(proc.args[-1]))


def summarize_collapsed(path: Path, top: int = 20) -> None:
    """Leaf (self) and inclusive sample counts from a py-spy raw (collapsed) file."""
    leaf, inclusive, total = Counter(), Counter(), 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")[1:]]  # drop the process frame
        total += int(count)
        if frames:
            leaf[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    print(f"  py-spy: {total} samples (non-idle threads of the worker tree)")
    for title, counter in (("self", leaf), ("inclusive", inclusive)):
        print(f"  top {top} by {title} samples:")
        for frame, count in counter.most_common(top):
            print(f"    {count:6d} {100 * count / max(total, 1):5.1f}%  {frame}")


class _NoProfile:
    def enable(self) -> None: ...

    def disable(self) -> None: ...

    def runcall(self, fn, *args):
        return fn(*args)


# cProfile of the driver in this process ---------------------------------------------------------------
class DriverProfiler:
    """Calls `apps.runs.driver.sweep_drive` here: cProfile on the loop thread and on the DB thread,
    the time and SQL of every `SweepDriver.db` call, and how late the event loop wakes up."""

    STALL_TICK_S = 0.005

    def __init__(self, *, cprofile: bool = True) -> None:
        self.reports: list[str] = []
        self.cprofile = cprofile

    def __call__(self, sweep_id: str) -> None:
        from django.db import connection

        from apps.runs import driver

        db_calls: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])  # count, run, cpu, awaited
        sql: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        lags: list[float] = []
        loop_cpu: list[float] = []
        db_prof, loop_prof = (cProfile.Profile(), cProfile.Profile()) if self.cprofile else (_NoProfile(), _NoProfile())
        cls = driver.SweepDriver
        saved = {name: cls.__dict__.get(name) for name in ("db", "drive")}
        original_db, original_drive = cls.db, cls.drive

        def count_sql(execute, statement, params, many, context):
            started = time.perf_counter()
            try:
                return execute(statement, params, many, context)
            finally:
                stat = sql[statement.split(None, 1)[0].upper()]
                stat[0] += 1
                stat[1] += time.perf_counter() - started

        async def timed_db(self, fn, /, **kwargs):
            name = getattr(fn, "__qualname__", repr(fn)).replace("SweepDriver.", "").replace(".<locals>.", ".")

            def run(**kw):
                started, cpu = time.perf_counter(), time.thread_time()
                db_prof.enable()
                try:
                    with connection.execute_wrapper(count_sql):
                        return fn(**kw)
                finally:
                    db_prof.disable()
                    db_calls[name][1] += time.perf_counter() - started
                    db_calls[name][2] += time.thread_time() - cpu

            submitted = time.perf_counter()
            try:
                return await original_db(self, run, **kwargs)
            finally:
                db_calls[name][0] += 1
                db_calls[name][3] += time.perf_counter() - submitted

        async def watched_drive(self):
            async def watch():
                while True:
                    before = time.perf_counter()
                    await asyncio.sleep(DriverProfiler.STALL_TICK_S)
                    lags.append(time.perf_counter() - before - DriverProfiler.STALL_TICK_S)

            watcher, cpu = asyncio.create_task(watch()), time.thread_time()
            try:
                await original_drive(self)
            finally:
                watcher.cancel()
                loop_cpu.append(time.thread_time() - cpu)

        cls.db, cls.drive = timed_db, watched_drive
        started = time.perf_counter()
        try:
            loop_prof.runcall(driver.sweep_drive, sweep_id)
        finally:
            for name, value in saved.items():  # put back exactly what the class had (or inherited)
                if value is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, value)
        wall = time.perf_counter() - started
        self.reports.append(self._format(wall, sum(loop_cpu), db_calls, sql, lags, loop_prof, db_prof))

    def _format(self, wall, loop_cpu, db_calls, sql, lags, loop_prof, db_prof) -> str:
        out = io.StringIO()
        db_cpu = sum(v[2] for v in db_calls.values())
        note = " (both inflated by cProfile)" if self.cprofile else ""
        out.write(f"  driver wall: {wall:.3f}s; thread CPU: event loop {loop_cpu:.3f}s, "
                  f"database {db_cpu:.3f}s{note}\n  database thread (SweepDriver.db):\n")
        out.write(f"    {'function':<28} {'calls':>6} {'run s':>7} {'CPU s':>7} {'awaited s':>9}\n")
        for name, (count, run, cpu, awaited) in sorted(db_calls.items(), key=lambda kv: -kv[1][1]):
            out.write(f"    {name:<28} {count:>6} {run:7.3f} {cpu:7.3f} {awaited:9.3f}\n")
        out.write("    SQL: " + ", ".join(f"{verb} {int(n)} ({t:.3f}s)" for verb, (n, t) in sorted(sql.items())) + "\n")
        lags.sort()
        if lags:
            late = sum(lag for lag in lags if lag > 0.02)
            out.write(f"  event-loop lag per {DriverProfiler.STALL_TICK_S * 1000:g} ms tick: p50 "
                      f"{lags[len(lags) // 2] * 1000:.1f} ms, p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, max "
                      f"{lags[-1] * 1000:.1f} ms; {sum(1 for x in lags if x > 0.02)} stalls > 20 ms ({late:.3f}s)\n")
        for title, prof, key, count in (("event-loop thread, by own time", loop_prof, "tottime", 25),
                                        ("database thread, by cumulative time", db_prof, "cumulative", 20)):
            if not self.cprofile:
                break
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats(key).print_stats(count)
            body = text.getvalue()
            body = body[body.find("   ncalls"):] if "   ncalls" in body else body
            out.write(f"  cProfile, {title}:\n" + "\n".join("    " + line for line in body.splitlines() if line) + "\n")
        return out.getvalue()

    def report(self) -> None:
        for label, text in zip(("fresh sweep", "cached re-run"), self.reports, strict=False):
            print(f"profile of the {label}:\n{text}", end="", flush=True)

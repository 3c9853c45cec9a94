"""Processes the sweep benchmark runs beside itself: the fake LLM server and a django-q2 worker.

Both start in their own session so that stopping one ends exactly the processes it started.
Memory is read from /proc (VmHWM, the peak resident set of each process), summed over a tree.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


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
    url = _wait_for(proc, log, r"http://127\.0\.0\.1:\d+/v1", 30)
    return proc, url


def start_worker(*, env: dict, log: Path, workers: int = 1) -> subprocess.Popen:
    """`manage.py qcluster` as production runs it (bin/start), once it reports itself running."""
    proc = _spawn([sys.executable, "manage.py", "qcluster"], {**env, "Q_WORKERS": str(workers)}, log)
    _wait_for(proc, log, r"Q Cluster \S+ running\.", 60)
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


def log_times(log: Path, needle: str) -> list[float]:
    """Epoch seconds of each log line containing `needle` (Django's `%(asctime)s`, local time)."""
    stamps = []
    for line in log.read_text(errors="replace").splitlines():
        match = LOG_TIME.match(line)
        if match and needle in line:
            stamps.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return stamps

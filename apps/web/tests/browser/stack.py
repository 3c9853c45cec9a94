"""A live PromptLooper for browser tests: `bin/start` (migrate, bootstrap, worker, daphne) in a fresh DATA_DIR.

The database follows the test run's mode: SQLite in the fresh DATA_DIR by default; with DATABASE_URL
set, a new database on that PostgreSQL server (dropped afterwards); with REDIS_URL set, the broker
and the channel layer on that Redis under a queue name of its own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[4]
START_TIMEOUT_S = 90.0
SETUP_LINK = re.compile(r"(http://\S+/setup/\?token=\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveStack:
    """One running instance: web (daphne) and worker (qcluster) as `bin/start` runs them."""

    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # True: the worker runs as its own `bin/start` (START_WEB=false), so a test can kill and restart it alone.
    separate_worker: bool = False
    worker: subprocess.Popen | None = None
    _own_database: str | None = None
    _env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "start.log"

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def setup_link(self) -> str:
        """The one-time first-boot link that `manage.py bootstrap` printed."""
        match = SETUP_LINK.search(self.log_path.read_text(errors="replace"))
        assert match, f"bootstrap printed no setup link:\n{self.log_tail()}"
        return match.group(1)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH",
                                                                 "TRUSTED_PROXIES", "DEMO_PROJECT"}}
        env.update(DATA_DIR=str(self.data_dir), HOST="127.0.0.1", PORT=str(self.port), PUBLIC_HOST="127.0.0.1",
                   PY=sys.executable, PYTHONUNBUFFERED="1", Q_WORKERS="2",
                   QUEUE_NAME=f"browser-{uuid.uuid4().hex[:8]}")
        if self.database_url:
            env["DATABASE_URL"] = self._create_database()
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        self._env = env
        if self.separate_worker:
            env = {**env, "START_WORKER": "false"}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen([str(ROOT / "bin/start")], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_healthy()
        if self.separate_worker:
            self.worker_start()

    def worker_start(self) -> None:
        """Start the worker alone (`bin/start` with START_WEB=false), as a worker container runs it."""
        assert self.separate_worker and self.worker is None
        with (self.data_dir / "worker.log").open("a") as log:
            self.worker = subprocess.Popen([str(ROOT / "bin/start")], cwd=ROOT, env={**self._env, "START_WEB": "false"},
                                           stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def worker_kill(self) -> None:
        """SIGKILL the worker's whole process group (qcluster and its children) at once, as a crash would."""
        if self.worker is not None:
            try:
                os.killpg(self.worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.worker.wait(timeout=30)
            self.worker = None

    def stop(self) -> None:
        self.worker_kill()
        if self.process is not None:
            # bin/start forwards TERM to daphne and the cluster; KILL the group if anything lingers.
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=30)
            self._signal(signal.SIGKILL)
            self.process = None
        if self._own_database:
            self._drop_database()

    def assert_running(self) -> None:
        assert self.process is not None and self.process.poll() is None, (
            f"bin/start exited (web or worker died):\n{self.log_tail()}")

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.assert_running()
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # polling a starting server for readiness, not waiting for work
        raise AssertionError(f"the live server did not answer /health in time:\n{self.log_tail()}")

    def _create_database(self) -> str:
        import psycopg

        name = f"pl_browser_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._own_database = name
        return urlunsplit(urlsplit(self.database_url)._replace(path=f"/{name}"))

    def _drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self._own_database}" WITH (FORCE)')
        self._own_database = None

"""A real django-q2 worker process against the TEST database, started as bin/start's worker role starts it.

`recover_sweeps`, then `qcluster` in its own session so the whole process tree (sentinel, pusher,
monitor, workers) can be killed at once. Tests using it need `django_db(transaction=True)` so
their rows are committed and visible to the worker. Under Redis the worker and this process share
a private Redis database number, so neither sees another test run's doorbells.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from apps.runs.driver import sweep_drive
from apps.runs.models import Run, Sweep
from apps.runs.tests.conftest import wait_until

BASE_DIR = Path(settings.BASE_DIR)
START_TIMEOUT_S = 30.0


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process in the group; PID 1 here may never reap orphans."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _private_redis_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{1 + os.getpid() % 15}"))


class Worker:
    """One worker host: `start()` boots it, `kill()` is a crash (SIGKILL), `stop()` a clean shutdown."""

    def __init__(self, *, env: dict[str, str], log_path: Path, app_name: str, redis_url: str | None) -> None:
        self.env = env
        self.log_path = log_path
        self.app_name = app_name
        self.redis_url = redis_url
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def _manage(self, *args: str) -> list[str]:
        return [sys.executable, str(BASE_DIR / "manage.py"), *args]

    def start(self) -> None:
        assert self.process is None, "worker already running"
        with self.log_path.open("a") as log:
            log.write(f"\n===== start {self.starts + 1} at {time.monotonic():.2f} =====\n")
            log.flush()
            recovered = subprocess.run(self._manage("recover_sweeps"), env=self.env, cwd=BASE_DIR, stdout=log,
                                       stderr=subprocess.STDOUT, timeout=START_TIMEOUT_S)
            assert recovered.returncode == 0, f"recover_sweeps failed:\n{self.log_tail()}"
            self.process = subprocess.Popen(self._manage("qcluster"), env=self.env, cwd=BASE_DIR, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """A crash: SIGKILL to every process of the worker at once, then wait until they are gone."""
        self._signal_group(signal.SIGKILL)
        self._reap()

    def stop(self, grace_s: float = 5.0) -> None:
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)
        self._reap()

    def _signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid
        self.process.wait(timeout=START_TIMEOUT_S)
        wait_until(lambda: not _group_alive(pgid), timeout_s=START_TIMEOUT_S, what="the worker's processes to exit")
        if connection.vendor == "postgresql":
            # A dead client's backend lingers for a moment; its locks would block the test's flush.
            wait_until(self._no_backends, timeout_s=START_TIMEOUT_S, what="the worker's database sessions to end")
        self.process = None

    def _no_backends(self) -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.app_name])
            return cursor.fetchone()[0] == 0

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def wait_for(self, predicate, *, timeout_s: float = 20.0, what: str = "condition"):
        """wait_until, with the worker's log in the failure message."""
        try:
            return wait_until(predicate, timeout_s=timeout_s, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- worker log ---\n{self.log_tail()}") from None

    def purge_queue(self) -> None:
        if self.redis_url:
            import redis

            client = redis.from_url(self.redis_url)
            for key in client.scan_iter(match="django_q:*"):
                client.delete(key)
            client.close()


def worker_env(*, app_name: str, redis_url: str | None) -> dict[str, str]:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH", "REDIS_URL")}
    # Same DATA_DIR: the persisted SECRET_KEY signs django-q payloads and the encryption key reads endpoint keys.
    env.update(DATA_DIR=str(settings.DATA_DIR), DJANGO_SETTINGS_MODULE="promptlooper.settings", PYTHONUNBUFFERED="1")
    if connection.vendor == "postgresql":
        auth = f"{quote(db['USER'], safe='')}:{quote(db['PASSWORD'] or '', safe='')}@"
        env["DATABASE_URL"] = (f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
                               f"?application_name={app_name}")
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def stopped_worker(*, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:
    """A stopped worker bound to the test database (the `worker` fixture); stopped again afterwards."""
    redis_url = None
    if settings.REDIS_URL:
        from django_q.conf import Conf

        redis_url = _private_redis_url(settings.REDIS_URL)
        monkeypatch.setattr(Conf, "REDIS", redis_url)  # this process rings the same private queue
    app_name = f"pl_worker_{uuid.uuid4().hex[:8]}"
    handle = Worker(env=worker_env(app_name=app_name, redis_url=redis_url), log_path=tmp_path / "worker.log",
                    app_name=app_name, redis_url=redis_url)
    handle.purge_queue()
    yield handle
    handle.stop()
    handle.purge_queue()


# Helpers shared by the worker tests ---------------------------------------------------------


def throttle(endpoint, fake_llm, *, slots: int, latency_ms: float) -> None:
    """At most `slots` calls in flight, each `latency_ms` long: slow enough to steer or kill mid-sweep."""
    endpoint.max_concurrency = slots
    endpoint.save()
    fake_llm.latency_ms = latency_ms


def start(api, experiment, **body) -> Sweep:
    response = api.post(f"/api/v1/experiments/{experiment.pk}/sweep", body, format="json")
    assert response.status_code == 202, response.content
    return Sweep.objects.get(pk=response.json()["sweep"]["id"])


def status_of(sweep) -> str:
    return Sweep.objects.filter(pk=sweep.pk).values_list("status", flat=True).get()


def run_totals(sweep) -> dict:
    return Run.objects.filter(sweep=sweep).aggregate(
        tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out"), cost_usd=Sum("cost_estimate"),
        cache_hits=Sum("cache_hits"),
    )


def sweep_totals(sweep) -> dict:
    sweep.refresh_from_db()
    return {"tokens_in": sweep.tokens_in, "tokens_out": sweep.tokens_out, "cost_usd": sweep.cost_usd,
            "cache_hits": sweep.cache_hits}


def per_point(sweep) -> dict:
    """Each configuration's own tokens and cost, keyed by its point (comparable across experiments)."""
    return {str(sorted(r.point.items())): (r.tokens_in, r.tokens_out, r.cost_estimate)
            for r in Run.objects.filter(sweep=sweep)}


def clean_reference(api, make_experiment, **shape) -> Sweep:
    """The same sweep driven in-process with nothing interrupting it; its cache is then dropped,
    so an identical experiment pays for every call again (the fake server's usage is deterministic)."""
    experiment = make_experiment(**shape)
    sweep = start(api, experiment)
    sweep_drive(str(sweep.pk))
    assert status_of(sweep) == Sweep.Status.COMPLETED
    assert api.delete(f"/api/v1/experiments/{experiment.pk}/cache").status_code == 200
    return sweep

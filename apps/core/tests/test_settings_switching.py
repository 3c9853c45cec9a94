"""Settings come from the environment: each case starts a fresh interpreter with its own env."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.db import connection
from channels.layers import get_channel_layer
q = settings.Q_CLUSTER
with connection.cursor() as c:
    c.execute("SELECT 1")
journal = None
if connection.vendor == "sqlite":
    with connection.cursor() as c:
        c.execute("PRAGMA journal_mode")
        journal = c.fetchone()[0]
print(json.dumps({
    "vendor": connection.vendor,
    "journal": journal,
    "broker": "redis" if "redis" in q else q.get("orm"),
    "layer": type(get_channel_layer()).__name__,
    "secret": settings.SECRET_KEY,
    "enc": settings.ENCRYPTION_KEYS,
    "allowed": settings.ALLOWED_HOSTS,
    "max_runs": settings.MAX_CONCURRENT_RUNS,
}))
"""


def probe(tmp_path: Path, **env: str) -> dict:
    dropped = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ENCRYPTION_KEYS"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean.update({"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "promptlooper.settings", **env})
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_uses_sqlite_in_wal_mode_and_the_orm_broker(tmp_path):
    result = probe(tmp_path)
    assert result["vendor"] == "sqlite" and result["journal"] == "wal"
    assert result["broker"] == "default"
    assert result["layer"] == "InMemoryChannelLayer"
    assert (tmp_path / "promptlooper.db").exists()
    assert "*" not in result["allowed"]


def test_generated_secrets_are_persisted_and_reused(tmp_path):
    first, second = probe(tmp_path), probe(tmp_path)
    assert first["secret"] == second["secret"] and len(first["secret"]) > 40
    assert first["enc"] == second["enc"]
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_environment_values_win_over_defaults(tmp_path):
    result = probe(tmp_path, SECRET_KEY="from-env-" + "x" * 40, MAX_CONCURRENT_RUNS="9", ALLOWED_HOSTS="pl.example")
    assert result["secret"].startswith("from-env-")
    assert result["max_runs"] == 9 and result["allowed"] == ["pl.example"]


def test_database_url_switches_to_postgresql(tmp_path):
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.fail("TEST_POSTGRES_URL is not set: run the suite with bin/test, which starts PostgreSQL")
    assert probe(tmp_path, DATABASE_URL=url)["vendor"] == "postgresql"


def test_redis_url_switches_the_task_broker_and_the_channel_layer(tmp_path):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the suite with bin/test, which starts Redis")
    result = probe(tmp_path, REDIS_URL=url)
    assert result["broker"] == "redis" and result["layer"] == "RedisChannelLayer"

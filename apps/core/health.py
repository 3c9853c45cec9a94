"""Liveness of what the app depends on: the database and, when configured, Redis."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message says why
        return f"{type(exc).__name__}: {exc}"
    return None


def check_redis() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def health_report() -> tuple[bool, dict[str, str]]:
    report: dict[str, str] = {}
    problem = check_database()
    report["database"] = problem or "ok"
    if settings.REDIS_URL:
        problem_redis = check_redis()
        report["redis"] = problem_redis or "ok"
    else:
        report["redis"] = "not configured"
    healthy = all(value in ("ok", "not configured") for value in report.values())
    report["status"] = "ok" if healthy else "unhealthy"
    return healthy, report

import os


def test_health_is_200_when_the_database_answers(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_health_reports_redis_when_configured(client, db, settings):
    settings.REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
    body = client.get("/health").json()
    assert body["redis"] == ("ok" if settings.REDIS_URL else "not configured")


def test_health_is_503_naming_redis_when_redis_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["redis"].startswith("ConnectionError")
    assert response.json()["database"] == "ok"


def test_health_is_503_naming_the_database_when_it_is_down(client, db, monkeypatch):
    from apps.core import health

    class UnreachableDatabase:
        def cursor(self):
            raise OSError("database unreachable")

    monkeypatch.setattr(health, "connection", UnreachableDatabase())
    response = client.get("/health")
    assert response.status_code == 503
    assert "database unreachable" in response.json()["database"]

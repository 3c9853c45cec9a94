"""The start-up command the Dockerfile and bin/demo run, exercised outside Docker."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, proc: subprocess.Popen, deadline_s: float = 90) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"bin/start exited early with {proc.returncode}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)  # polling a starting server for readiness, not waiting for work
    raise AssertionError("the server did not answer /health in time")


@pytest.fixture
def started_app(tmp_path, fake_llm):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATA_DIR=str(tmp_path),
        HOST="127.0.0.1",
        PORT=str(port),
        PY=sys.executable,
        DEFAULT_ENDPOINT_URL=fake_llm.base_url,
        DEMO_PROJECT="true",
        Q_WORKERS="1",
    )
    log = open(tmp_path / "start.log", "w+")
    proc = subprocess.Popen(
        ["bin/start"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/health", proc)
        log.seek(0)
        yield {"port": port, "health": health, "log": log.read(), "proc": proc}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_bin_start_brings_up_the_app_and_the_printed_setup_link_seeds_the_demo(started_app):
    assert started_app["health"].status_code == 200
    match = re.search(r"http://\S+/setup/\?token=(\S+)", started_app["log"])
    assert match, started_app["log"]
    token = match.group(1)
    base = f"http://127.0.0.1:{started_app['port']}"
    with httpx.Client(base_url=base) as client:
        page = client.get(f"/setup/?token={token}")
        assert page.status_code == 200 and "Create admin account" in page.text
        assert client.get("/static/vendor/htmx/htmx-2.0.7.min.js").status_code == 200
        assert client.get("/api/v1/projects").status_code == 503
        created = client.post(
            "/api/v1/auth/setup", json={"username": "admin", "password": "a long passphrase!", "token": token}
        )
        assert created.status_code == 201, created.text
        headers = {"Authorization": f"Bearer {created.json()['access_token']}"}
        projects = client.get("/api/v1/projects", headers=headers).json()
        assert [p["name"] for p in projects["results"]] == ["Demo: support replies"]
        endpoints = client.get("/api/v1/endpoints", headers=headers).json()
        probe = client.post(f"/api/v1/endpoints/{endpoints['results'][0]['id']}/test", headers=headers).json()
        assert probe["ok"] is True and "fake-chat" in probe["models"]
        assert client.get("/admin/login/").status_code == 200
        assert client.get("/api/v1/docs").status_code == 200
    assert started_app["proc"].poll() is None, "web or worker died after start-up"

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
def started_app(request, tmp_path, fake_llm):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "TRUSTED_PROXIES"}}
    env.update(
        DATA_DIR=str(tmp_path),
        HOST="127.0.0.1",
        PORT=str(port),
        PY=sys.executable,
        DEFAULT_ENDPOINT_URL=fake_llm.base_url,
        DEMO_PROJECT="true",
        Q_WORKERS="1",
    )
    env.update(getattr(request, "param", {}))
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


def process_group_commands(pgid: int) -> list[list[str]]:
    commands = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and os.getpgid(int(entry.name)) == pgid:
                commands.append((entry / "cmdline").read_bytes().decode().split("\0"))
        except (OSError, ProcessLookupError):
            continue
    return commands


def complete_setup(client: httpx.Client, started_app, password: str) -> None:
    token = re.search(r"http://\S+/setup/\?token=(\S+)", started_app["log"]).group(1)
    created = client.post("/api/v1/auth/setup", json={"username": "admin", "password": password, "token": token})
    assert created.status_code == 201, created.text


def test_the_real_server_locks_logins_that_claim_a_new_forwarded_address_each_time(started_app):
    daphne = [cmd for cmd in process_group_commands(started_app["proc"].pid) if "daphne" in cmd]
    assert daphne and all("--proxy-headers" not in cmd for cmd in daphne)
    with httpx.Client(base_url=f"http://127.0.0.1:{started_app['port']}") as client:
        password = "a long passphrase!"
        complete_setup(client, started_app, password)
        for n in range(5):  # LOGIN_FAILURE_LIMIT
            client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"},
                        headers={"X-Forwarded-For": f"198.51.100.{n}"})
        locked = client.post("/api/v1/auth/login", json={"username": "admin", "password": password},
                             headers={"X-Forwarded-For": "198.51.100.99"})
        assert locked.status_code == 429
        for n in range(5):
            client.get("/login/")
            form = {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": client.cookies["csrftoken"]}
            client.post("/login/", data=form, headers={"X-Forwarded-For": f"192.0.2.{n}"})
        form["password"] = password
        assert client.post("/login/", data=form, headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 429


@pytest.mark.parametrize("started_app", [{"TRUSTED_PROXIES": "127.0.0.1"}], indirect=True)
def test_behind_a_declared_proxy_the_real_server_counts_forwarded_clients_apart(started_app):
    with httpx.Client(base_url=f"http://127.0.0.1:{started_app['port']}") as client:
        password = "a long passphrase!"
        complete_setup(client, started_app, password)
        for _ in range(5):
            client.post("/api/v1/auth/login", json={"username": "admin", "password": "wrong"},
                        headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7"})
        login = {"username": "admin", "password": password}
        locked = client.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-For": "198.51.100.7"})
        assert locked.status_code == 429
        other = client.post("/api/v1/auth/login", json=login, headers={"X-Forwarded-For": "198.51.100.8"})
        assert other.status_code == 200

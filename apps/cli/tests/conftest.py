"""A live server (bin/start: daphne and a real worker) with an admin, an API key and an endpoint on the fake LLM,
and the installed `promptlooper` command run against it as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.web.tests.browser.stack import ROOT, LiveStack

COMMAND = ROOT / ".venv/bin/promptlooper"
ENDPOINT_LABEL = "Fake"


# Run by manage.py on the live server's database: a second account (standing in for another server) and its key.
SECOND_ACCOUNT = """
from apps.accounts.models import User
from apps.accounts.services import api_key_create
user = User.objects.create_user(username="second", password="a long second passphrase")
print(api_key_create(user=user, name="ci")[1])
"""


@dataclass(frozen=True)
class Server:
    stack: LiveStack
    key: str
    api: httpx.Client

    def cli(self, *args: str, cwd: Path | None = None, timeout: float = 120, key: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **(env or {}), "PROMPTLOOPER_URL": self.stack.base_url,
               "PROMPTLOOPER_API_KEY": key or self.key}
        return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=timeout)


@dataclass(frozen=True)
class Account:
    key: str
    api: httpx.Client


@pytest.fixture(scope="package")
def second_account(server, fake_llm_session) -> Iterator[Account]:
    """Another user of the same server with an endpoint of the same label (and a different id)."""
    created = subprocess.run([sys.executable, "manage.py", "shell", "-c", SECOND_ACCOUNT], cwd=ROOT,
                             env=server.stack._env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    with httpx.Client(base_url=f"{server.stack.base_url}/api/v1", headers={"Authorization": f"Bearer {key}"},
                      timeout=30) as api:
        api.post("/endpoints", json={"label": ENDPOINT_LABEL, "base_url": fake_llm_session.base_url}
                 ).raise_for_status()
        yield Account(key=key, api=api)


@pytest.fixture(scope="package")
def server(fake_llm_session) -> Iterator[Server]:
    assert COMMAND.exists(), "the promptlooper command is not installed: run bin/setup"
    with tempfile.TemporaryDirectory(prefix="pl-cli-") as data_dir:
        stack = LiveStack(data_dir=Path(data_dir), database_url=os.environ.get("DATABASE_URL"),
                          redis_url=os.environ.get("REDIS_URL"))
        try:
            stack.start()
            token = parse_qs(urlsplit(stack.setup_link()).query)["token"][0]
            setup = httpx.post(f"{stack.base_url}/api/v1/auth/setup", timeout=30,
                               json={"username": "ci", "password": "a long cli passphrase", "token": token})
            assert setup.status_code == 201, setup.text
            session = {"Authorization": f"Bearer {setup.json()['access_token']}"}
            key = httpx.post(f"{stack.base_url}/api/v1/auth/keys", json={"name": "ci"}, headers=session, timeout=30)
            assert key.status_code == 201, key.text
            raw = key.json()["key"]
            with httpx.Client(base_url=f"{stack.base_url}/api/v1", headers={"Authorization": f"Bearer {raw}"},
                              timeout=30) as api:
                api.post("/endpoints", json={"label": ENDPOINT_LABEL, "base_url": fake_llm_session.base_url}
                         ).raise_for_status()
                yield Server(stack=stack, key=raw, api=api)
        finally:
            stack.stop()

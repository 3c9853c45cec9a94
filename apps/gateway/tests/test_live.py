"""The gateway on a real server (bin/start: daphne and a worker), streaming from the fake LLM server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from apps.web.tests.browser.stack import ROOT, LiveStack

SETUP = """
from apps.accounts.models import User
from apps.deployments.services.deployments import deployment_create
from apps.deployments.services.keys import deployment_key_create
from apps.deployments.services.versions import version_create
from apps.endpoints.models import Endpoint
user = User.objects.create_user(username="gw", password="a long gateway passphrase")
endpoint = Endpoint.objects.create(owner=user, label="fake", base_url="{base_url}")
deployment = deployment_create(owner=user, name="live", endpoint=endpoint, model="ab-chat")
version_create(deployment=deployment, system_prompt="Be concise.")
print(deployment_key_create(deployment=deployment, name="live")[1])
"""
ROWS = ("from apps.deployments.models import GatewayRequest as G; "
        "print(G.objects.filter(streamed=True, success=True).count())")


def manage_shell(stack: LiveStack, code: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=stack._env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_streamed_reply_arrives_in_pieces_through_the_running_server_and_is_recorded(fake_llm_session):
    with tempfile.TemporaryDirectory(prefix="pl-gateway-") as data_dir:
        stack = LiveStack(data_dir=Path(data_dir), database_url=os.environ.get("DATABASE_URL"))
        try:
            stack.start()
            key = manage_shell(stack, SETUP.format(base_url=fake_llm_session.base_url))
            body = {"model": "x", "stream": True, "user": "live-1",
                    "messages": [{"role": "user", "content": "REPLY: one two three four five six"}]}
            pieces = []
            with httpx.stream("POST", f"{stack.base_url}/gateway/v1/chat/completions", json=body, timeout=30,
                              headers={"Authorization": f"Bearer {key}"}) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["x-promptlooper-version"] == "1"
                pieces = [chunk for chunk in response.iter_raw() if chunk]
            text = b"".join(pieces).decode()
            assert len(pieces) >= 2, pieces
            assert text.rstrip().endswith("data: [DONE]") and '"choices": []' not in text  # usage chunk stripped
            deadline = time.monotonic() + 10
            while manage_shell(stack, ROWS) != "1":
                assert time.monotonic() < deadline, "no GatewayRequest row was written"
        finally:
            stack.stop()

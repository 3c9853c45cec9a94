"""Against the real stack (daphne, a separate django-q2 worker, the fake LLM): a worker SIGKILLed between an
event and its delivery loses nothing; after a restart the receiver gets every event, signed, at least once."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from apps.web.tests.browser.stack import LiveStack
from apps.webhooks.tests.receiver import Receiver

# Long enough for a send whose worker died holding its lease (2 min) to be picked up by the minute sweeper.
LEASE_RECOVERY_S = 240.0


@pytest.fixture
def stack() -> Iterator[LiveStack]:
    with tempfile.TemporaryDirectory(prefix="pl-webhooks-") as data_dir:
        stack = LiveStack(data_dir=Path(data_dir), database_url=os.environ.get("DATABASE_URL"),
                          redis_url=os.environ.get("REDIS_URL"), separate_worker=True)
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


def api_for(stack: LiveStack) -> httpx.Client:
    """First-boot setup over REST, then an API key for the admin."""
    token = parse_qs(urlsplit(stack.setup_link()).query)["token"][0]
    setup = httpx.post(f"{stack.base_url}/api/v1/auth/setup", timeout=30,
                       json={"username": "ops", "password": "a long webhook passphrase", "token": token})
    assert setup.status_code == 201, setup.text
    key = httpx.post(f"{stack.base_url}/api/v1/auth/keys", json={"name": "webhooks"}, timeout=30,
                     headers={"Authorization": f"Bearer {setup.json()['access_token']}"})
    assert key.status_code == 201, key.text
    return httpx.Client(base_url=f"{stack.base_url}/api/v1", timeout=30,
                        headers={"Authorization": f"Bearer {key.json()['key']}"})


def received_ids(receiver: Receiver) -> set[str]:
    return {request.headers["webhook-id"] for request in list(receiver.received)}


def wait_until(condition, stack: LiveStack, what: str, *, timeout_s: float = 90.0):
    """Poll another process's work (the worker's) with a deadline; returns the condition's truthy value."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        stack.assert_running()
        if time.monotonic() > deadline:
            log = (stack.data_dir / "worker.log").read_text(errors="replace")[-4000:]
            raise AssertionError(f"{what} did not happen in {timeout_s:g} s; worker log:\n{log}")
        time.sleep(0.1)
    return value


def arrived(receiver: Receiver, stack: LiveStack, message_id: str, **kwargs) -> None:
    wait_until(lambda: message_id in received_ids(receiver), stack, f"delivery {message_id}", **kwargs)


def deliveries(api: httpx.Client, webhook_id: str, event_type: str | None = None) -> list[dict]:
    params = {"event_type": event_type} if event_type else {}
    return api.get(f"/webhooks/{webhook_id}/deliveries", params=params).raise_for_status().json()["results"]


def test_a_worker_killed_between_event_and_delivery_delivers_everything_after_restart(stack, fake_llm_session):
    with Receiver() as receiver, api_for(stack) as api:
        api.put("/admin/settings", json={"egress_allowlist": f"127.0.0.1:{receiver.port}"}).raise_for_status()
        endpoint = api.post("/endpoints", json={"label": "Fake", "base_url": fake_llm_session.base_url})
        project = api.post("/projects", json={"name": "Hooks"}).raise_for_status().json()
        experiment = api.post("/experiments", json={
            "project": project["id"], "name": "Delivered", "sample_data": [{"id": "1", "input": "hello"}],
            "pipeline_stages": [{"name": "answer", "endpoint": endpoint.raise_for_status().json()["id"],
                                 "model": "fake-chat", "prompt_template": "{{ input }}"}],
        })
        assert experiment.status_code == 201, experiment.text
        created = api.post("/webhooks", json={"url": receiver.url,
                                              "event_types": ["experiment.started", "experiment.completed"]})
        assert created.status_code == 201, created.text
        webhook_id, verifier = created.json()["id"], Webhook(created.json()["secret"])

        # The worker is up: a test event goes through at once.
        first = api.post(f"/webhooks/{webhook_id}/test").raise_for_status().json()
        arrived(receiver, stack, first["message_id"])

        # Killed before the event: the web process commits the event and its delivery row, nobody sends it.
        stack.worker_kill()
        started = api.post(f"/experiments/{experiment.json()['id']}/sweep", json={})
        assert started.status_code == 202, stack.log_tail()
        [pending] = deliveries(api, webhook_id, "experiment.started")
        assert pending["status"] == "pending" and pending["attempts"] == 0
        stack.worker_start()
        arrived(receiver, stack, pending["message_id"])

        # Killed right after the event is committed, wherever the worker was in sending it.
        second = api.post(f"/webhooks/{webhook_id}/test").raise_for_status().json()
        stack.worker_kill()
        stack.worker_start()
        arrived(receiver, stack, second["message_id"], timeout_s=LEASE_RECOVERY_S)

        # The sweep the restarted worker ran finished, and its completion was delivered too.
        [completed] = wait_until(lambda: deliveries(api, webhook_id, "experiment.completed"), stack,
                                 "the sweep's experiment.completed")
        # Its send may have been the one in flight at the second kill: then it waits for that lease too.
        arrived(receiver, stack, completed["message_id"], timeout_s=LEASE_RECOVERY_S)

        log = {d["message_id"]: d for d in deliveries(api, webhook_id)}
        assert sorted(d["event_type"] for d in log.values()) == [
            "experiment.completed", "experiment.started", "webhook.test", "webhook.test"]
        bodies: dict[str, bytes] = {}
        for request in list(receiver.received):
            event = verifier.verify(request.body, request.headers)  # raises unless signed with the secret
            message_id = request.headers["webhook-id"]
            assert message_id in log and event["type"] == log[message_id]["event_type"]
            # At least once: a duplicate carries the same webhook-id and the very same body.
            assert bodies.setdefault(message_id, request.body) == request.body
        assert set(bodies) == set(log)  # every delivery in the log reached the receiver: nothing lost

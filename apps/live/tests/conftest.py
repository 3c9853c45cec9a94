"""Live-socket helpers: a signed-in WebSocket client against the real ASGI app, and the two channel layers."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import Client

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.experiments.models import Experiment
from apps.projects.models import Project
from promptlooper.asgi import application

ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def relay_layer(settings):
    """Single-container mode: the in-memory layer, so the relay delivers."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def redis_layer(settings):
    """Direct publishing through channels-redis (the Redis the suite runs with)."""
    url = django_settings.REDIS_URL or os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.fail("TEST_REDIS_URL is not set: run the suite with bin/test, which starts Redis")
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
    }


@pytest.fixture(autouse=True)
def _close_async_connections():
    """database_sync_to_async keeps a connection in asgiref's one sync thread; PostgreSQL cannot drop a
    test database that a session still uses."""
    yield
    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


def experiment_of(user, name: str = "Tone check") -> Experiment:
    project = Project.objects.create(owner=user, name=f"{name} project")
    return Experiment.objects.create(project=project, name=name)


def record(experiment: Experiment, kind: Kind = Kind.RUN_COMPLETED, **payload):
    """Record and commit one event, as a service does."""
    return event_emit(kind=kind, experiment=experiment, payload=payload)


def in_thread(action: Callable[[], object]) -> None:
    """Run `action` in another thread with its own database connection (as another process would write)."""
    def target() -> None:
        try:
            action()
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the writing thread did not finish"


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}".encode()


async def socket(path: str, user=None, *, subprotocols: list[str] | None = None) -> WebsocketCommunicator:
    """A WebSocket to `path`, signed in as `user` through the session cookie (None: anonymous)."""
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(_session_cookie)(user)))
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def opened(path: str, user=None, **kwargs) -> WebsocketCommunicator:
    communicator = await socket(path, user, **kwargs)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def closed_with(path: str, user=None) -> int:
    """The close code the server answers a connection attempt with (it accepts first, then closes)."""
    communicator = await socket(path, user)
    connected, _ = await communicator.connect()
    assert connected
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await communicator.disconnect()
    return message["code"]


async def events_until(communicator: WebsocketCommunicator, wanted: set[int], *, timeout_s: float = 5.0) -> list[list]:
    """JSON pushes received until every event id in `wanted` arrived (fails at the deadline)."""
    deadline = time.monotonic() + timeout_s
    pushes: list[list] = []
    seen: set[int] = set()
    while not wanted <= seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"events {sorted(wanted - seen)} did not arrive within {timeout_s}s"
        message = json.loads(await communicator.receive_from(timeout=remaining))
        pushes.append(message["events"])
        seen.update(event["id"] for event in message["events"])
    return pushes

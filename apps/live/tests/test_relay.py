"""Single-container mode: the web process's relay delivers events that any process commits."""

import json
import math
import time

import pytest
from channels.db import database_sync_to_async

from apps.activity.kinds import Kind
from apps.live.coalesce import PUSH_INTERVAL_S
from apps.live.tests.conftest import events_until, experiment_of, in_thread, opened, record

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("relay_layer")]


async def test_an_owner_sees_the_dashboard_feed_fragment_after_an_event_commits(owner):
    experiment = await database_sync_to_async(experiment_of)(owner, "Tone check")
    communicator = await opened("/ws/dashboard", owner)
    await database_sync_to_async(record)(experiment, Kind.NEW_BEST, weighted_score=0.9)
    html = await communicator.receive_from(timeout=5)
    assert html.startswith('<section id="dashboard-feed"')
    assert "A run beat every earlier run" in html and "Tone check" in html
    await communicator.disconnect()


async def test_a_json_client_receives_the_event_itself(owner):
    experiment = await database_sync_to_async(experiment_of)(owner)
    communicator = await opened(f"/ws/experiments/{experiment.pk}?format=json", owner)
    event = await database_sync_to_async(record)(experiment, Kind.RUN_FAILED, error="timeout")
    message = json.loads(await communicator.receive_from(timeout=5))
    assert message["type"] == "events"
    assert message["events"] == [{
        "id": event.pk, "kind": "run.failed", "created_at": event.created_at.isoformat(),
        "project": str(experiment.project_id), "experiment": str(experiment.pk), "sweep": None, "run": None,
        "payload": {"error": "timeout"},
    }]
    await communicator.disconnect()


async def test_an_event_written_by_another_connection_arrives_within_a_second(owner):
    experiment = await database_sync_to_async(experiment_of)(owner)
    communicator = await opened(f"/ws/experiments/{experiment.pk}", owner)
    started = time.monotonic()
    await database_sync_to_async(in_thread)(lambda: record(experiment, Kind.RUN_COMPLETED))
    html = await communicator.receive_from(timeout=5)
    assert time.monotonic() - started < 1.0
    assert html.startswith('<section id="experiment-timeline"') and "run.completed" in html
    await communicator.disconnect()


async def test_a_user_never_receives_another_users_events(owner, other_user):
    mine = await database_sync_to_async(experiment_of)(owner, "Mine")
    theirs = await database_sync_to_async(experiment_of)(other_user, "Theirs")
    communicator = await opened("/ws/dashboard?format=json", owner)
    await database_sync_to_async(record)(theirs)
    event = await database_sync_to_async(record)(mine)
    pushes = await events_until(communicator, {event.pk})
    assert [e["experiment"] for push in pushes for e in push] == [str(mine.pk)]
    await communicator.disconnect()


async def test_a_guest_sees_every_users_activity_read_only(owner, guest_mode):
    experiment = await database_sync_to_async(experiment_of)(owner, "Shared demo")
    communicator = await opened(f"/ws/experiments/{experiment.pk}")
    await database_sync_to_async(record)(experiment)
    html = await communicator.receive_from(timeout=5)
    assert "Shared demo" in html and "<form" not in html and "<button" not in html
    await communicator.disconnect()


async def test_a_burst_of_events_is_coalesced_into_a_few_pushes(owner):
    experiment = await database_sync_to_async(experiment_of)(owner)
    communicator = await opened(f"/ws/experiments/{experiment.pk}?format=json", owner)
    ids: list[int] = []
    started = time.monotonic()
    await database_sync_to_async(in_thread)(lambda: ids.extend(record(experiment).pk for _ in range(40)))
    pushes = await events_until(communicator, set(ids))
    elapsed = time.monotonic() - started
    assert sum(len(push) for push in pushes) == 40  # every event exactly once
    assert len(pushes) <= 2 + math.ceil(elapsed / PUSH_INTERVAL_S)
    assert len(pushes) < 40
    await communicator.disconnect()


async def test_a_guest_socket_receives_nothing_while_guest_access_is_off(owner, guest_mode):
    experiment = await database_sync_to_async(experiment_of)(owner)
    guest = await opened(f"/ws/experiments/{experiment.pk}?format=json")
    probe = await opened(f"/ws/experiments/{experiment.pk}?format=json", owner)

    def set_guest_access(on: bool) -> None:
        guest_mode.allow_guest_access = on
        guest_mode.save()

    await database_sync_to_async(set_guest_access)(False)
    hidden = await database_sync_to_async(record)(experiment)
    await events_until(probe, {hidden.pk})  # the owner got it: the relay has pushed it, guest access off
    await database_sync_to_async(set_guest_access)(True)
    shown = await database_sync_to_async(record)(experiment)
    pushes = await events_until(guest, {shown.pk})
    assert [e["id"] for push in pushes for e in push] == [shown.pk]
    await guest.disconnect()
    await probe.disconnect()

"""With Redis: every process publishes directly through channels-redis, coalesced per group."""

import math
import time

import pytest
from channels.db import database_sync_to_async

from apps.activity.kinds import Kind
from apps.live.coalesce import PUSH_INTERVAL_S
from apps.live.tests.conftest import events_until, experiment_of, in_thread, opened, record

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("redis_layer")]


async def test_an_event_committed_by_another_thread_reaches_the_owners_page_through_redis(owner):
    experiment = await database_sync_to_async(experiment_of)(owner, "Over Redis")
    communicator = await opened("/ws/dashboard", owner)
    started = time.monotonic()
    await database_sync_to_async(in_thread)(lambda: record(experiment, Kind.SWEEP_STARTED))
    html = await communicator.receive_from(timeout=5)
    assert time.monotonic() - started < 1.0
    assert html.startswith('<section id="dashboard-feed"')
    assert Kind.SWEEP_STARTED.description in html and "Over Redis" in html
    await communicator.disconnect()


async def test_a_burst_published_directly_is_coalesced_into_a_few_pushes(owner):
    experiment = await database_sync_to_async(experiment_of)(owner)
    communicator = await opened(f"/ws/experiments/{experiment.pk}", owner, subprotocols=["promptlooper.json"])
    ids: list[int] = []
    started = time.monotonic()
    await database_sync_to_async(in_thread)(lambda: ids.extend(record(experiment).pk for _ in range(40)))
    pushes = await events_until(communicator, set(ids))
    elapsed = time.monotonic() - started
    assert sorted(e["id"] for push in pushes for e in push) == sorted(ids)
    assert len(pushes) <= 2 + math.ceil(elapsed / PUSH_INTERVAL_S)
    assert len(pushes) < 40
    await communicator.disconnect()


async def test_a_rolled_back_event_is_never_published(owner):
    from django.db import transaction

    experiment = await database_sync_to_async(experiment_of)(owner)
    communicator = await opened(f"/ws/experiments/{experiment.pk}?format=json", owner)

    def rolled_back_then_kept():
        try:
            with transaction.atomic():
                record(experiment, Kind.RUN_FAILED)
                raise RuntimeError("the service failed")
        except RuntimeError:
            pass
        return record(experiment, Kind.RUN_COMPLETED)

    kept = await database_sync_to_async(rolled_back_then_kept)()
    pushes = await events_until(communicator, {kept.pk})
    assert [e["kind"] for push in pushes for e in push] == ["run.completed"]
    await communicator.disconnect()

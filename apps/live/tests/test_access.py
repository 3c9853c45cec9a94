"""Who may open a live socket: the same rules as the pages (owner; guests read-only while guest access is on)."""

import pytest

from apps.live.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND
from apps.live.tests.conftest import closed_with, experiment_of, opened, socket

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def async_experiment_of(user):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(experiment_of)(user)


async def test_an_owner_opens_their_dashboard_and_their_experiment(owner, relay_layer):
    experiment = await async_experiment_of(owner)
    for path in ("/ws/dashboard", f"/ws/experiments/{experiment.pk}"):
        communicator = await opened(path, owner)
        assert await communicator.receive_nothing()
        await communicator.disconnect()


async def test_another_users_experiment_is_closed_as_not_found(owner, other_user, relay_layer):
    experiment = await async_experiment_of(other_user)
    assert await closed_with(f"/ws/experiments/{experiment.pk}", owner) == CLOSE_NOT_FOUND


async def test_an_unknown_experiment_is_closed_as_not_found(owner, relay_layer):
    assert await closed_with("/ws/experiments/00000000-0000-0000-0000-000000000000", owner) == CLOSE_NOT_FOUND


async def test_an_anonymous_reader_without_guest_access_must_sign_in(owner, relay_layer):
    experiment = await async_experiment_of(owner)
    assert await closed_with("/ws/dashboard") == CLOSE_FORBIDDEN
    assert await closed_with(f"/ws/experiments/{experiment.pk}") == CLOSE_FORBIDDEN


async def test_a_guest_opens_the_dashboard_and_any_experiment_while_guest_access_is_on(owner, guest_mode, relay_layer):
    experiment = await async_experiment_of(owner)
    for path in ("/ws/dashboard", f"/ws/experiments/{experiment.pk}"):
        communicator = await opened(path)
        await communicator.disconnect()


async def test_a_guest_still_gets_not_found_for_an_experiment_that_does_not_exist(guest_mode, relay_layer):
    assert await closed_with("/ws/experiments/00000000-0000-0000-0000-000000000000") == CLOSE_NOT_FOUND


async def test_frames_sent_by_a_guest_change_nothing_and_get_no_answer(owner, guest_mode, relay_layer):
    communicator = await opened("/ws/dashboard")
    await communicator.send_to(text_data='{"action": "stop"}')
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_socket_from_another_site_is_refused(owner, relay_layer):
    from channels.testing import WebsocketCommunicator

    from promptlooper.asgi import application

    communicator = WebsocketCommunicator(application, "/ws/dashboard", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


async def test_the_json_subprotocol_is_accepted_by_name(owner, relay_layer):
    communicator = await socket("/ws/dashboard", owner, subprotocols=["promptlooper.json"])
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == "promptlooper.json"
    await communicator.disconnect()

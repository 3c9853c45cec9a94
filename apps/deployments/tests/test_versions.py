"""Prompt versions: dedup by content, numbering, exactly one active, events and webhooks, deletion, pruning."""

import json
import threading

import pytest
from django.db import connection

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.core.errors import Conflict, InvalidInput
from apps.core.models import SystemSettings
from apps.deployments.models import AbTest, AbVariant, Deployment, PromptVersion
from apps.deployments.selectors.deployments import versions_for
from apps.deployments.services.abtests import ab_test_delete
from apps.deployments.services.versions import (
    version_activate,
    version_content_hash,
    version_create,
    version_delete,
    version_track,
    versions_prune,
)
from apps.deployments.tests.builders import make_deployment, make_version
from apps.webhooks.services import webhook_create
from apps.webhooks.tests.receiver import Receiver


def numbers(deployment) -> list[int]:
    return sorted(versions_for(deployment=deployment).values_list("number", flat=True))


def active(deployment) -> list[int]:
    return list(PromptVersion.objects.filter(deployment=deployment, is_active=True).values_list("number", flat=True))


def revision(deployment) -> int:
    return Deployment.objects.get(pk=deployment.pk).revision


def test_identical_content_returns_the_existing_version(owner):
    deployment = make_deployment(owner)
    first, created = version_create(deployment=deployment, system_prompt="Be brief.", params={"temperature": 0.30})
    again, created_again = version_create(deployment=deployment, system_prompt="Be brief.",
                                          params={"temperature": 0.3}, description="a different description")
    assert created and not created_again and again == first
    assert numbers(deployment) == [1]


def test_the_content_hash_is_sha256_over_prompt_template_model_and_params():
    base = version_content_hash(system_prompt="Be brief.")
    assert len(base) == 64 and base == version_content_hash(system_prompt="Be brief.", params={})
    assert len({base, version_content_hash(system_prompt="Be brief.", user_template="{{ input }}!"),
                version_content_hash(system_prompt="Be brief.", model="fake-chat-large"),
                version_content_hash(system_prompt="Be brief.", params={"temperature": 0.2})}) == 4


def test_versions_are_numbered_in_order_and_a_different_override_is_a_new_version(owner):
    deployment = make_deployment(owner)
    make_version(deployment, "Be brief.")
    make_version(deployment, "Be brief.", model="fake-chat-large")
    third = make_version(deployment, "Be thorough.")
    assert numbers(deployment) == [1, 2, 3] and third.number == 3


def test_the_same_prompt_in_two_deployments_is_two_versions(owner):
    one, two = make_deployment(owner, name="one"), make_deployment(owner, name="two")
    assert make_version(one).number == make_version(two).number == 1


def test_the_first_version_becomes_active_and_later_ones_wait_to_be_activated(owner):
    deployment = make_deployment(owner)
    make_version(deployment, "one")
    second = make_version(deployment, "two")
    assert active(deployment) == [1] and not second.is_active
    version_activate(version=second, actor="owner")
    assert active(deployment) == [2]


def test_creating_with_activate_switches_the_active_version(owner):
    deployment = make_deployment(owner)
    make_version(deployment, "one")
    make_version(deployment, "two", activate=True)
    assert active(deployment) == [2]


def test_activation_bumps_the_revision_and_emits_version_activated_with_the_ids(owner):
    deployment = make_deployment(owner)
    first = make_version(deployment, "one")
    second = make_version(deployment, "two")
    before = revision(deployment)
    version_activate(version=second, actor="owner", reason="manual")
    assert revision(deployment) == before + 1
    event = Event.objects.filter(kind=Kind.VERSION_ACTIVATED).latest("id")
    assert event.owner_id == owner.pk and event.experiment_id is None
    assert event.payload == {"deployment_id": str(deployment.pk), "deployment_name": deployment.name,
                             "version_id": str(second.pk), "number": 2, "previous_version_id": str(first.pk),
                             "reason": "manual", "actor": "owner"}


def test_activating_the_active_version_again_changes_nothing(owner):
    deployment = make_deployment(owner)
    version = make_version(deployment)
    before, events = revision(deployment), Event.objects.count()
    version_activate(version=version)
    assert revision(deployment) == before and Event.objects.count() == events


def test_each_new_version_is_on_the_timeline(owner):
    deployment = make_deployment(owner)
    make_version(deployment, "one", created_by="owner")
    make_version(deployment, "one", created_by="owner")  # a duplicate creates nothing
    [event] = Event.objects.filter(kind=Kind.VERSION_CREATED)
    assert event.payload["number"] == 1 and event.payload["created_by"] == "owner"


@pytest.fixture
def receiver(db):
    with Receiver() as server:
        system = SystemSettings.load()
        system.egress_allowlist = f"127.0.0.1:{server.port}"
        system.save()
        yield server


@pytest.fixture
def run_tasks_now(monkeypatch):
    from django.utils.module_loading import import_string

    def run(func: str, *args, **kwargs):
        return import_string(func)(*args)

    monkeypatch.setattr("apps.core.queue.async_task", run)
    monkeypatch.setattr("apps.webhooks.delivery.async_task", run)


def test_a_webhook_subscribed_to_version_activated_receives_the_activation(
        owner, receiver, run_tasks_now, django_capture_on_commit_callbacks):
    webhook_create(owner=owner, url=receiver.url, event_types=["version.activated"])
    deployment = make_deployment(owner)
    make_version(deployment, "one")
    second = make_version(deployment, "two")
    receiver.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        version_activate(version=second, actor="owner")
    [request] = receiver.received
    body = json.loads(request.body)
    assert body["type"] == "version.activated"
    assert body["data"]["deployment_id"] == str(deployment.pk) and body["data"]["version_id"] == str(second.pk)
    assert body["data"]["number"] == 2 and body["data"]["experiment_id"] is None


def test_the_active_version_cannot_be_deleted_but_an_inactive_one_can(owner):
    deployment = make_deployment(owner)
    first = make_version(deployment, "one")
    second = make_version(deployment, "two")
    with pytest.raises(Conflict):
        version_delete(version=first)
    version_delete(version=second)
    assert numbers(deployment) == [1]


def ab_test_over(deployment, *versions) -> AbTest:
    test = AbTest.objects.create(deployment=deployment, name="tone")
    for position, version in enumerate(versions):
        AbVariant.objects.create(ab_test=test, name=f"arm {position}", version=version, weight=1, position=position)
    return test


def test_a_version_in_an_ab_test_cannot_be_deleted(owner):
    deployment = make_deployment(owner)
    control, candidate = make_version(deployment, "one"), make_version(deployment, "two")
    ab_test_over(deployment, control, candidate)
    with pytest.raises(Conflict) as excinfo:
        version_delete(version=candidate)
    assert "tone" in str(excinfo.value)
    assert numbers(deployment) == [1, 2]


def test_pruning_deletes_the_oldest_inactive_versions_but_keeps_the_active_and_ab_tested_ones(owner):
    deployment = make_deployment(owner, max_versions=3)
    v1, v2 = make_version(deployment, "one"), make_version(deployment, "two")  # v1 is active
    ab_test_over(deployment, v1, v2)
    for n in range(3, 7):
        make_version(deployment, f"prompt {n}")
    assert numbers(deployment) == [1, 2, 6]
    assert active(deployment) == [1]


def test_pruning_keeps_the_active_version_even_when_it_is_the_oldest(owner):
    deployment = make_deployment(owner, max_versions=2)
    make_version(deployment, "one")
    for n in range(2, 6):
        make_version(deployment, f"prompt {n}")
    assert numbers(deployment) == [1, 5] and active(deployment) == [1]
    assert versions_prune(deployment=deployment) == 0


def test_a_new_version_survives_pruning_when_every_older_one_is_pinned(owner):
    """The review's case: with max_versions − 1 versions active or in a test, the new one was the only
    prunable version and was deleted right after being created (a 201 for a row that no longer existed)."""
    deployment = make_deployment(owner, max_versions=3)
    v1, v2, v3 = make_version(deployment, "one"), make_version(deployment, "two"), make_version(deployment, "three")
    ab_test_over(deployment, v1, v2, v3)
    version, created = version_create(deployment=deployment, system_prompt="four")
    assert created and PromptVersion.objects.filter(pk=version.pk).exists()
    assert numbers(deployment) == [1, 2, 3, 4]  # above the limit until a version is freed
    make_version(deployment, "five")
    assert numbers(deployment) == [1, 2, 3, 5]


def test_deleting_a_finished_test_frees_its_versions_for_deletion_and_pruning(owner):
    deployment = make_deployment(owner, max_versions=3)
    v1, v2, v3 = make_version(deployment, "one"), make_version(deployment, "two"), make_version(deployment, "three")
    test = ab_test_over(deployment, v1, v2, v3)
    with pytest.raises(Conflict) as excinfo:
        version_delete(version=v3)
    assert "delete that test first" in str(excinfo.value)
    ab_test_delete(ab_test=test)
    assert not AbTest.objects.filter(pk=test.pk).exists()
    make_version(deployment, "four")
    assert numbers(deployment) == [1, 3, 4]
    version_delete(version=v3)
    assert numbers(deployment) == [1, 4]


def test_a_running_tests_version_cannot_be_deleted_and_the_message_says_what_to_do(owner):
    deployment = make_deployment(owner)
    test = ab_test_over(deployment, make_version(deployment, "one"), candidate := make_version(deployment, "two"))
    AbTest.objects.filter(pk=test.pk).update(status=AbTest.Status.RUNNING)
    with pytest.raises(Conflict) as excinfo:
        version_delete(version=candidate)
    assert str(excinfo.value) == "Version 2 is a variant of the A/B test 'tone'; pause or complete it, then delete it."


def test_deleting_or_pruning_a_version_bumps_the_revision_so_gateways_reload(owner):
    deployment = make_deployment(owner, max_versions=2)
    make_version(deployment, "one")
    second = make_version(deployment, "two")
    before = revision(deployment)
    version_delete(version=second)
    assert revision(deployment) == before + 1
    make_version(deployment, "two again")
    before = revision(deployment)
    make_version(deployment, "three")  # prunes "two again"
    assert numbers(deployment) == [1, 3] and revision(deployment) == before + 1


def test_a_version_needs_a_prompt_and_a_valid_template(owner):
    deployment = make_deployment(owner)
    with pytest.raises(InvalidInput) as excinfo:
        version_create(deployment=deployment, system_prompt="  ")
    assert set(excinfo.value.errors) == {"system_prompt"}
    with pytest.raises(InvalidInput) as excinfo:
        version_create(deployment=deployment, system_prompt="x", user_template="{{ input ")
    assert set(excinfo.value.errors) == {"user_template"}
    with pytest.raises(InvalidInput) as excinfo:
        version_create(deployment=deployment, system_prompt="x\x00", params={"top_p": 3})
    assert set(excinfo.value.errors) == {"system_prompt"}
    assert numbers(deployment) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_the_same_content_make_one_version(admin_user, owner):
    deployment = make_deployment(owner)
    barrier = threading.Barrier(4)
    results: list[tuple] = []

    def create() -> None:
        barrier.wait()
        try:
            results.append(version_create(deployment=deployment, system_prompt="Same prompt."))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len({version.pk for version, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert numbers(deployment) == [1] and active(deployment) == [1]


def test_tracking_is_off_unless_the_deployment_turns_it_on(owner):
    deployment = make_deployment(owner)
    assert version_track(deployment=deployment, system_prompt="A new prompt.") is None
    assert numbers(deployment) == []


def test_tracking_creates_and_activates_a_version_for_an_untracked_system_prompt(owner):
    deployment = make_deployment(owner, auto_track=True)
    make_version(deployment, "The original.")
    tracked = version_track(deployment=deployment, system_prompt="Edited in the client.")
    assert tracked is not None and tracked.is_active and tracked.created_by == "gateway"
    assert (tracked.number, tracked.user_template, tracked.model, tracked.params) == (2, "", "", {})
    assert active(deployment) == [2]
    assert Event.objects.filter(kind=Kind.VERSION_ACTIVATED).latest("id").payload["reason"] == "tracking"


def test_a_system_prompt_some_version_already_has_is_not_tracked_again(owner):
    deployment = make_deployment(owner, auto_track=True)
    make_version(deployment, "Promoted prompt.", model="fake-chat-large", params={"temperature": 0.1})
    make_version(deployment, "Another.")
    assert version_track(deployment=deployment, system_prompt="Promoted prompt.") is None
    assert version_track(deployment=deployment, system_prompt="Another.") is None
    assert numbers(deployment) == [1, 2] and active(deployment) == [1]


def test_a_prompt_no_version_may_hold_is_not_tracked(owner):
    deployment = make_deployment(owner, auto_track=True)
    assert version_track(deployment=deployment, system_prompt="bad \x00 byte") is None
    assert version_track(deployment=deployment, system_prompt="   ") is None
    assert numbers(deployment) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_a_new_prompt_track_one_version(admin_user, owner):
    deployment = make_deployment(owner, auto_track=True)
    make_version(deployment, "The original.")
    barrier = threading.Barrier(2)
    results: list = []

    def track() -> None:
        barrier.wait()
        try:
            results.append(version_track(deployment=Deployment.objects.get(pk=deployment.pk),
                                         system_prompt="Edited in the client."))
        finally:
            connection.close()

    threads = [threading.Thread(target=track) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and sum(result is not None for result in results) == 1
    assert numbers(deployment) == [1, 2] and active(deployment) == [2]

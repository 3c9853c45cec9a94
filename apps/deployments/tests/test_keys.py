"""Deployment keys: shown once, stored hashed, revocable, and only ever resolving to their own deployment."""

from collections import OrderedDict

import pytest

from apps.core.errors import NotFound
from apps.deployments.models import DeploymentKey
from apps.deployments.selectors.deployments import deployment_keys_for
from apps.deployments.services import keys
from apps.deployments.services.keys import (
    deployment_for_key,
    deployment_key_check,
    deployment_key_create,
    deployment_key_revoke,
)
from apps.deployments.tests.builders import make_deployment


def test_a_new_key_is_returned_once_and_stored_only_as_a_hash(owner):
    deployment = make_deployment(owner)
    key, raw = deployment_key_create(deployment=deployment, name="production")
    assert raw.startswith(f"plg_{key.prefix}_") and len(raw) > 40
    stored = DeploymentKey.objects.get(pk=key.pk)
    assert raw not in (stored.hashed_key, stored.prefix) and stored.name == "production"
    assert deployment_for_key(raw=raw) == deployment


def test_a_revoked_key_is_refused(owner):
    deployment = make_deployment(owner)
    key, raw = deployment_key_create(deployment=deployment, name="old")
    revoked = deployment_key_revoke(deployment=deployment, key_id=str(key.pk))
    assert revoked.revoked_at is not None and not revoked.is_active
    assert deployment_for_key(raw=raw) is None
    assert deployment_keys_for(deployment=deployment).get().revoked_at is not None


def test_a_key_resolves_only_to_its_own_deployment_and_a_forged_one_to_none(owner, other_user):
    mine, theirs = make_deployment(owner), make_deployment(other_user)
    _, my_raw = deployment_key_create(deployment=mine, name="k")
    their_key, their_raw = deployment_key_create(deployment=theirs, name="k")
    assert deployment_for_key(raw=their_raw) == theirs != mine
    forged = f"plg_{their_key.prefix}_{my_raw.rsplit('_', 1)[1]}"
    for raw in (forged, "plg_", "pl_abc_def", "", their_raw + "x"):
        assert deployment_for_key(raw=raw) is None


def test_a_key_of_a_deactivated_owner_is_refused(owner):
    _, raw = deployment_key_create(deployment=make_deployment(owner), name="k")
    owner.is_active = False
    owner.save()
    assert deployment_for_key(raw=raw) is None


def test_another_deployments_key_cannot_be_revoked_through_this_one(owner, other_user):
    theirs = make_deployment(other_user)
    their_key, their_raw = deployment_key_create(deployment=theirs, name="k")
    with pytest.raises(NotFound):
        deployment_key_revoke(deployment=make_deployment(owner), key_id=their_key.pk)
    assert deployment_for_key(raw=their_raw) == theirs


def last_used(key):
    return DeploymentKey.objects.get(pk=key.pk).last_used_at


def test_last_used_is_written_at_most_once_a_minute_per_key(owner, monkeypatch):
    monkeypatch.setattr(keys, "_touched", OrderedDict())
    key, raw = deployment_key_create(deployment=make_deployment(owner), name="k")
    assert deployment_key_check(raw=raw, now=1000.0) is not None
    first = last_used(key)
    deployment_key_check(raw=raw, now=1000.0 + keys.TOUCH_EVERY_S - 1)
    assert first is not None and last_used(key) == first
    deployment_key_check(raw=raw, now=1000.0 + keys.TOUCH_EVERY_S)
    assert last_used(key) > first


def test_many_distinct_keys_do_not_grow_the_touch_memory_and_a_key_is_touched_again_after_the_interval(
        owner, monkeypatch):
    monkeypatch.setattr(keys, "_touched", OrderedDict())
    monkeypatch.setattr(keys, "TOUCHED_MAX", 5)
    deployment = make_deployment(owner)
    made = [deployment_key_create(deployment=deployment, name=f"k{i}") for i in range(12)]
    (first, first_raw), others = made[0], made[1:]
    deployment_key_check(raw=first_raw, now=0.0)
    touched_at = last_used(first)

    for n, (_, raw) in enumerate(others):  # all within one interval: only the cap bounds the memory
        deployment_key_check(raw=raw, now=1.0 + n)
    assert len(keys._touched) == 5
    later = keys.TOUCH_EVERY_S + 20.0  # everything remembered is now older than the interval
    for _, raw in others[:3]:
        deployment_key_check(raw=raw, now=later)
    assert len(keys._touched) == 3

    deployment_key_check(raw=first_raw, now=later)
    assert last_used(first) > touched_at

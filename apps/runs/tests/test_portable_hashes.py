"""A run's config hash names endpoints by label, so the same experiment on another server hashes alike.

Two users stand in for two servers: each has an endpoint labelled alike (different ids).
"""

import importlib

import pytest
from django.apps import apps as django_apps

from apps.endpoints.models import Endpoint
from apps.engine.hashing import sha256_of
from apps.experiments.services import experiment_create
from apps.projects.models import Project
from apps.runs.models import Run
from apps.runs.services.planning import run_config_hash, samples_fingerprint
from apps.runs.services.sweeps import sweep_redirect, sweep_start

pytestmark = pytest.mark.django_db

ITEMS = [{"id": "a", "input": "one"}, {"id": "b", "input": "two"}]


@pytest.fixture(autouse=True)
def _no_worker(enqueued):
    """Planning only: the driver tasks are recorded, not run."""


def endpoints_of(user, *labels) -> dict[str, str]:
    return {label: str(Endpoint.objects.create(owner=user, label=label, base_url="http://127.0.0.1:9/v1").pk)
            for label in labels}


def experiment_of(user, endpoints, *, model="fake-chat", axis=None):
    project = Project.objects.create(owner=user, name="Portable")
    stages = [{"name": "answer", "endpoint": endpoints["Local"], "model": model,
               "prompt_template": "Answer: {{ input }}", "params": {"temperature": 0.5}}]
    space = [{"path": "stages.0.params.temperature", "values": [0.1, 0.9]}]
    if axis:
        space.append({"path": "stages.0.endpoint", "values": [endpoints[label] for label in axis]})
    return experiment_create(user=user, project=project, data={
        "name": "exp", "sample_data": ITEMS, "pipeline_stages": stages, "parameter_space": space})


def planned_hashes(user, experiment) -> list[str]:
    sweep, _ = sweep_start(user=user, experiment=experiment, kind="grid")
    return list(Run.objects.filter(sweep=sweep).order_by("position").values_list("config_hash", flat=True))


def test_the_same_experiment_for_two_users_with_endpoints_of_the_same_label_plans_the_same_hashes(
        owner, other_user):
    ours, theirs = endpoints_of(owner, "Local", "Cloud"), endpoints_of(other_user, "Local", "Cloud")
    assert ours["Local"] != theirs["Local"]

    mine = planned_hashes(owner, experiment_of(owner, ours, axis=["Local", "Cloud"]))
    other = planned_hashes(other_user, experiment_of(other_user, theirs, axis=["Local", "Cloud"]))

    assert len(set(mine)) == 4 and mine == other


def test_a_different_model_or_endpoint_label_gives_different_hashes(owner, other_user):
    ours = endpoints_of(owner, "Local")
    mine = planned_hashes(owner, experiment_of(owner, ours))
    other_model = planned_hashes(other_user, experiment_of(other_user, endpoints_of(other_user, "Local"),
                                                           model="fake-chat-large"))
    renamed = Endpoint.objects.create(owner=other_user, label="Elsewhere", base_url="http://127.0.0.1:9/v1")
    other_label = planned_hashes(other_user, experiment_of(other_user, {"Local": str(renamed.pk)}))

    assert not set(mine) & set(other_model) and not set(mine) & set(other_label)


def test_the_planned_hash_is_the_hash_of_the_stored_config_on_the_fast_and_the_slow_path(owner):
    endpoints = endpoints_of(owner, "Local", "Cloud")
    experiment = experiment_of(owner, endpoints, axis=["Cloud", "Local"])
    sweep, _ = sweep_start(user=owner, experiment=experiment, kind="grid")
    fingerprint = samples_fingerprint(experiment.sample_data)
    for run in Run.objects.filter(sweep=sweep):
        assert run.config_hash == run_config_hash(config=run.config, items_fingerprint=fingerprint, repeats=1)
        assert run.config_hash != sha256_of({"config": run.config, "samples": fingerprint, "repeats": 1})


def test_stored_hashes_from_before_the_change_are_rewritten_so_a_redirect_still_keeps_finished_runs(owner):
    endpoints = endpoints_of(owner, "Local")
    experiment = experiment_of(owner, endpoints)
    sweep, _ = sweep_start(user=owner, experiment=experiment, kind="grid")
    fingerprint = samples_fingerprint(experiment.sample_data)
    runs = list(Run.objects.filter(sweep=sweep).order_by("position"))
    new_hashes = [run.config_hash for run in runs]
    for run in runs:  # as the previous release stored them: the endpoint's id in the hash
        run.config_hash = sha256_of({"config": run.config, "samples": fingerprint, "repeats": 1})
    Run.objects.bulk_update(runs, ["config_hash"])
    stale = Run.objects.create(experiment=experiment, sweep=sweep, position=9, config=runs[0].config,
                               point={}, config_hash="0" * 64)  # items changed since: not reproducible, kept
    Run.objects.filter(sweep=sweep).update(status=Run.Status.COMPLETED)

    migration = importlib.import_module("apps.runs.migrations.0007_portable_config_hashes")
    migration._rehash(django_apps, forwards=True)

    assert [r.config_hash for r in Run.objects.filter(sweep=sweep, position__lt=9).order_by("position")] == new_hashes
    stale.refresh_from_db()
    assert stale.config_hash == "0" * 64
    Run.objects.filter(pk=stale.pk).delete()
    # Redirecting onto the same space plans nothing new: the finished runs are recognised as the same configs.
    _, removed, added = sweep_redirect(experiment=experiment, parameter_space=experiment.parameter_space)
    assert (removed, added) == (0, 0)

    migration._rehash(django_apps, forwards=False)
    old = [sha256_of({"config": r.config, "samples": fingerprint, "repeats": 1}) for r in runs]
    assert [r.config_hash for r in Run.objects.filter(sweep=sweep).order_by("position")] == old

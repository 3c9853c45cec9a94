"""Deployments: ownership of what they forward to, unique names, settings changes and reads per user."""

import pytest
from django.contrib.auth.models import AnonymousUser

from apps.core.errors import InvalidInput, NotFound
from apps.deployments.models import AbTest, AbVariant, Deployment, DeploymentKey, PromptVersion
from apps.deployments.selectors.deployments import (
    deployment_active_version,
    deployment_get,
    deployment_rows,
    deployments_for,
    version_get,
    versions_for,
)
from apps.deployments.services.deployments import deployment_create, deployment_delete, deployment_update
from apps.deployments.services.keys import deployment_key_create
from apps.deployments.tests.builders import make_deployment, make_endpoint, make_version
from apps.projects.models import Project


def field_errors(excinfo) -> set[str]:
    return set(excinfo.value.errors)


def test_a_deployment_is_created_with_its_endpoint_model_and_params(owner):
    endpoint = make_endpoint(owner)
    deployment = deployment_create(owner=owner, name="  support-bot ", endpoint=str(endpoint.pk), model="fake-chat",
                                   params={"temperature": 0.3})
    assert (deployment.name, deployment.endpoint, deployment.params) == ("support-bot", endpoint, {"temperature": 0.3})
    assert deployment.max_versions == 50 and not deployment.auto_track


def test_another_users_endpoint_is_refused_naming_the_endpoint(owner, other_user):
    with pytest.raises(InvalidInput) as excinfo:
        deployment_create(owner=owner, name="bot", endpoint=make_endpoint(other_user), model="m")
    assert field_errors(excinfo) == {"endpoint"}
    assert not Deployment.objects.exists()


def test_another_users_project_is_refused_naming_the_project(owner, other_user):
    theirs = Project.objects.create(owner=other_user, name="theirs")
    with pytest.raises(InvalidInput) as excinfo:
        deployment_create(owner=owner, name="bot", endpoint=make_endpoint(owner), model="m", project=theirs.pk)
    assert field_errors(excinfo) == {"project"}


def test_names_are_unique_per_owner_but_not_across_owners(owner, other_user):
    make_deployment(owner, name="bot")
    with pytest.raises(InvalidInput) as excinfo:
        make_deployment(owner, name="bot")
    assert field_errors(excinfo) == {"name"}
    assert make_deployment(other_user, name="bot").owner == other_user


def test_bad_inference_parameters_name_the_parameter(owner):
    with pytest.raises(InvalidInput) as excinfo:
        make_deployment(owner, params={"temperature": 7, "messages": []})
    assert field_errors(excinfo) == {"params.temperature", "params.messages"}


def test_an_update_changes_the_settings_and_bumps_the_revision(owner):
    deployment = make_deployment(owner)
    before = deployment.revision
    updated = deployment_update(deployment=deployment, model="fake-chat-large", auto_track=True)
    assert (updated.model, updated.auto_track) == ("fake-chat-large", True)
    assert Deployment.objects.get(pk=deployment.pk).revision == before + 1


def test_an_update_refuses_unknown_fields_and_a_taken_name(owner):
    make_deployment(owner, name="taken")
    deployment = make_deployment(owner, name="mine")
    with pytest.raises(InvalidInput) as excinfo:
        deployment_update(deployment=deployment, colour="blue")
    assert field_errors(excinfo) == {"colour"}
    with pytest.raises(InvalidInput) as excinfo:
        deployment_update(deployment=deployment, name="taken")
    assert field_errors(excinfo) == {"name"}
    assert Deployment.objects.get(pk=deployment.pk).name == "mine"


def test_lowering_max_versions_prunes_the_oldest_inactive_versions(owner):
    deployment = make_deployment(owner)
    for n in range(5):
        make_version(deployment, f"prompt {n}")
    deployment_update(deployment=deployment, max_versions=2)
    assert sorted(versions_for(deployment=deployment).values_list("number", flat=True)) == [1, 5]


def test_deleting_a_deployment_deletes_its_keys_versions_and_ab_tests(owner):
    deployment = make_deployment(owner)
    versions = [make_version(deployment, "one"), make_version(deployment, "two")]
    test = AbTest.objects.create(deployment=deployment, name="tone")
    for position, version in enumerate(versions):
        AbVariant.objects.create(ab_test=test, name=f"arm {position}", version=version, weight=1, position=position)
    deployment_key_create(deployment=deployment, name="prod")
    deployment_delete(deployment=deployment)
    assert not PromptVersion.objects.exists() and not DeploymentKey.objects.exists() and not AbTest.objects.exists()


def test_each_user_reads_only_their_own_deployments_and_versions(owner, other_user):
    mine, theirs = make_deployment(owner, name="mine"), make_deployment(other_user, name="theirs")
    their_version = make_version(theirs)
    assert list(deployments_for(user=owner)) == [mine]
    assert deployment_get(user=owner, deployment_id=str(mine.pk)) == mine
    for lookup in (lambda: deployment_get(user=owner, deployment_id=theirs.pk),
                   lambda: deployment_get(user=owner, deployment_id="not-a-uuid"),
                   lambda: version_get(user=owner, version_id=their_version.pk)):
        with pytest.raises(NotFound):
            lookup()
    assert version_get(user=other_user, version_id=their_version.pk) == their_version


def test_a_guest_reads_no_deployments(owner):
    make_deployment(owner)
    assert list(deployments_for(user=AnonymousUser())) == []


def test_the_active_version_is_the_first_one_until_another_is_activated(owner):
    deployment = make_deployment(owner)
    assert deployment_active_version(deployment=deployment) is None
    first = make_version(deployment, "one")
    make_version(deployment, "two")
    assert deployment_active_version(deployment=deployment) == first


def test_a_list_of_deployments_shows_each_ones_active_version_in_three_queries_however_many(
        owner, django_assert_max_num_queries):
    endpoint = make_endpoint(owner)
    deployments = [make_deployment(owner, name=f"bot-{n}", endpoint=endpoint) for n in range(6)]
    for n, deployment in enumerate(deployments[:4]):
        make_version(deployment, f"Prompt {n}.")

    with django_assert_max_num_queries(3):
        rows = deployment_rows(deployments=deployments)

    assert [row.active.system_prompt if row.active else None for row in rows] == [
        "Prompt 0.", "Prompt 1.", "Prompt 2.", "Prompt 3.", None, None]
    assert all(row.requests_24h == 0 and row.ab_test is None for row in rows)

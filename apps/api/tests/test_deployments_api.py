"""REST for deployments: CRUD, gateway keys, promoting an approved run, and gateway feedback."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from apps.deployments.models import AbTest, Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.deployments.services.keys import deployment_for_key, deployment_key_create
from apps.deployments.services.requests import gateway_requests_record
from apps.deployments.tests.builders import make_deployment, make_endpoint, make_run, make_version
from apps.projects.models import Project

pytestmark = pytest.mark.django_db
URL = "/api/v1/deployments"


@pytest.fixture
def endpoint(owner):
    return make_endpoint(owner)


def create(api, endpoint, **fields):
    body = {"name": "support-bot", "endpoint": str(endpoint.pk), "model": "fake-chat", **fields}
    return api.post(URL, body, format="json")


def test_it_creates_a_deployment_and_lists_it_with_its_active_version(api, owner, endpoint):
    project = Project.objects.create(owner=owner, name="Support")
    response = create(api, endpoint, params={"temperature": 0.2}, project=str(project.pk), auto_track=True)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["endpoint"], body["model"], body["params"], body["project_name"], body["auto_track"],
            body["max_versions"], body["active_version"]) == (
        "support-bot", str(endpoint.pk), "fake-chat", {"temperature": 0.2}, "Support", True, 50, None)
    version = make_version(Deployment.objects.get(pk=body["id"]))
    rows = api.get(URL).json()["results"]
    assert [(r["id"], r["active_version"]) for r in rows] == [(body["id"], {"id": str(version.pk), "number": 1})]


def test_a_taken_name_or_another_users_endpoint_is_refused_by_field_and_nothing_is_created(
        api, other_user, endpoint):
    make_deployment(endpoint.owner, name="support-bot", endpoint=endpoint)
    theirs = make_endpoint(other_user, label="theirs")

    taken = create(api, endpoint)
    foreign = create(api, theirs, name="other-bot")
    bad_params = create(api, endpoint, name="third", params={"temperature": "hot"})

    assert taken.status_code == 400 and "name" in taken.json()
    assert foreign.status_code == 400 and "endpoint" in foreign.json()
    assert bad_params.status_code == 400 and "params.temperature" in bad_params.json()
    assert Deployment.objects.count() == 1


def test_the_owner_changes_and_deletes_a_deployment(api, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)

    changed = api.patch(f"{URL}/{deployment.pk}", {"model": "fake-chat-large", "max_versions": 5}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["model"], changed.json()["max_versions"]) == ("fake-chat-large", 5)
    assert changed.json()["revision"] > deployment.revision

    assert api.delete(f"{URL}/{deployment.pk}").status_code == 204
    assert not Deployment.objects.exists()


def test_another_users_deployment_is_not_found_for_every_operation_and_stays_unchanged(api, other_user):
    theirs = make_deployment(other_user)
    key, _ = deployment_key_create(deployment=theirs, name="prod")
    base = f"{URL}/{theirs.pk}"

    answers = [api.get(base), api.patch(base, {"name": "mine"}, format="json"), api.delete(base),
               api.get(f"{base}/keys"), api.post(f"{base}/keys", {"name": "k"}, format="json"),
               api.delete(f"{base}/keys/{key.pk}")]

    assert [r.status_code for r in answers] == [404] * 6
    assert api.get(URL).json()["results"] == []
    theirs.refresh_from_db()
    key.refresh_from_db()
    assert theirs.name == "support-bot" and key.revoked_at is None and DeploymentKey.objects.count() == 1


def test_anonymous_and_guests_can_neither_read_nor_write_deployments(anon_api, guest_mode, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)

    assert anon_api.get(URL).status_code == 401
    assert anon_api.get(f"{URL}/{deployment.pk}").status_code == 401
    assert create(anon_api, endpoint, name="guest-bot").status_code == 401
    assert anon_api.delete(f"{URL}/{deployment.pk}").status_code == 401
    assert Deployment.objects.count() == 1


def test_a_key_is_shown_once_listed_by_prefix_and_refused_by_the_gateway_once_revoked(api, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)

    created = api.post(f"{URL}/{deployment.pk}/keys", {"name": "production"}, format="json")
    assert created.status_code == 201, created.content
    raw = created.json()["key"]
    assert raw.startswith("plg_") and deployment_for_key(raw=raw) == deployment
    listed = api.get(f"{URL}/{deployment.pk}/keys").json()["results"]
    prefix = created.json()["prefix"]
    assert [(k["name"], k["prefix"], k["is_active"]) for k in listed] == [("production", prefix, True)]
    assert raw not in str(listed)

    revoked = api.delete(f"{URL}/{deployment.pk}/keys/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert deployment_for_key(raw=raw) is None


def one_stage(prompt="You answer in one sentence."):
    return [{"name": "answer", "model": "fake-chat-large", "system_prompt": prompt,
             "prompt_template": "{{ input }}", "params": {"temperature": 0.3}}]


def test_an_approved_run_is_promoted_into_a_version_and_again_returns_the_same_version(api, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)
    run = make_run(owner, stages=one_stage(), endpoint=endpoint)

    first = api.post(f"/api/v1/runs/{run.pk}/promote", {"deployment_id": str(deployment.pk)}, format="json")
    again = api.post(f"/api/v1/runs/{run.pk}/promote", {"deployment_id": str(deployment.pk)}, format="json")

    assert first.status_code == 201, first.content
    version = first.json()["version"]
    assert (version["system_prompt"], version["model"], version["params"], version["source_run"],
            version["is_active"], first.json()["ab_test"]) == (
        "You answer in one sentence.", "fake-chat-large", {"temperature": 0.3}, str(run.pk), True, None)
    assert again.json()["version"]["id"] == version["id"]
    assert PromptVersion.objects.count() == 1


def test_promoting_with_start_ab_test_runs_a_test_of_the_active_version_against_the_run(api, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)
    control = make_version(deployment, "You are terse.")
    run = make_run(owner, stages=one_stage(), endpoint=endpoint)

    response = api.post(f"/api/v1/runs/{run.pk}/promote", {
        "deployment_id": str(deployment.pk), "start_ab_test": True, "split": [70, 30], "ab_test_name": "Tone"},
        format="json")

    assert response.status_code == 201, response.content
    test = response.json()["ab_test"]
    assert (test["name"], test["status"], test["traffic_split"]) == ("Tone", "running", [70, 30])
    assert [v["prompt_version_id"] for v in test["variants"]] == [str(control.pk), response.json()["version"]["id"]]


def test_promotion_is_refused_for_an_unapproved_run_or_a_run_or_deployment_that_is_not_yours(api, owner, other_user,
                                                                                       endpoint):
    mine = make_deployment(owner, endpoint=endpoint)
    theirs = make_deployment(other_user)
    unapproved = make_run(owner, stages=one_stage(), approved=False, endpoint=endpoint)
    approved = make_run(owner, stages=one_stage(), endpoint=endpoint)
    their_run = make_run(other_user, stages=one_stage())

    not_approved = api.post(f"/api/v1/runs/{unapproved.pk}/promote", {"deployment_id": str(mine.pk)}, format="json")
    foreign = api.post(f"/api/v1/runs/{approved.pk}/promote", {"deployment_id": str(theirs.pk)}, format="json")
    bad_split = api.post(f"/api/v1/runs/{approved.pk}/promote", {"deployment_id": str(mine.pk),
                                                                  "start_ab_test": True, "split": [0, 1]},
                         format="json")
    their = api.post(f"/api/v1/runs/{their_run.pk}/promote", {"deployment_id": str(mine.pk)}, format="json")

    assert not_approved.status_code == 409 and "approve" in not_approved.json()["detail"]
    assert foreign.status_code == 404
    assert bad_split.status_code == 400 and "split" in bad_split.json()
    assert their.status_code == 404
    assert PromptVersion.objects.count() == 0 and AbTest.objects.count() == 0


def a_gateway_request(deployment) -> str:
    request_id = uuid.uuid4()
    gateway_requests_record(rows=[{"request_id": request_id, "deployment_id": deployment.pk, "model": "fake-chat",
                                   "status_code": 200, "success": True, "created_at": timezone.now()}])
    return str(request_id)


def test_feedback_is_recorded_with_the_deployment_key_or_the_owners_api_key(api, anon_api, owner, endpoint):
    deployment = make_deployment(owner, endpoint=endpoint)
    _, raw = deployment_key_create(deployment=deployment, name="prod")
    by_key, by_owner = a_gateway_request(deployment), a_gateway_request(deployment)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with_key = anon_api.post("/api/v1/gateway/feedback", {"request_id": by_key, "helpful": False}, format="json")
    with_user = api.post("/api/v1/gateway/feedback", {"request_id": by_owner, "helpful": True}, format="json")

    assert with_key.status_code == 200, with_key.content
    assert with_key.json() == {"request_id": by_key, "helpful": False, "success": True}
    assert with_user.status_code == 200 and with_user.json()["helpful"] is True
    assert dict(GatewayRequest.objects.values_list("request_id", "helpful")) == {
        uuid.UUID(by_key): False, uuid.UUID(by_owner): True}


def test_feedback_on_another_users_request_or_with_a_revoked_key_is_refused(api, anon_api, other_user, owner):
    theirs = make_deployment(other_user)
    mine = make_deployment(owner, name="mine", endpoint=make_endpoint(owner))
    key, raw = deployment_key_create(deployment=mine, name="prod")
    their_request = a_gateway_request(theirs)

    by_user = api.post("/api/v1/gateway/feedback", {"request_id": their_request, "helpful": True}, format="json")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    by_other_key = anon_api.post("/api/v1/gateway/feedback", {"request_id": their_request, "helpful": True},
                                 format="json")
    api.delete(f"{URL}/{mine.pk}/keys/{key.pk}")
    revoked = anon_api.post("/api/v1/gateway/feedback", {"request_id": a_gateway_request(mine), "helpful": True},
                            format="json")
    bad = api.post("/api/v1/gateway/feedback", {"request_id": "nope", "helpful": True}, format="json")

    assert (by_user.status_code, by_other_key.status_code, revoked.status_code) == (404, 404, 401)
    assert bad.status_code == 400 and "request_id" in bad.json()
    assert not GatewayRequest.objects.filter(helpful__isnull=False).exists()

import pytest

from apps.core.logging import redact
from apps.projects.services import project_create
from apps.webhooks.models import EVENT_TYPES, WebhookConfig
from apps.webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

HEADER_CANARY = "Bearer HEADERCANARY-123456"
SECRET_CANARY = "SECRETCANARY-abcdefghijkl"


@pytest.fixture
def webhook(owner):
    webhook, _ = webhook_create(
        owner=owner, url="https://hooks.example.com/in", event_types=["run.failed"],
        headers={"Authorization": HEADER_CANARY}, secret=SECRET_CANARY,
    )
    return webhook


def detail(webhook):
    return f"/api/v1/webhooks/{webhook.pk}"


def test_creating_without_a_secret_generates_one_and_shows_it_once(api, owner):
    body = {"url": "https://hooks.example.com/in", "event_types": ["new_best_found", "run.failed"]}
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["secret"].startswith("whsec_")
    assert data["has_secret"] is True
    stored = WebhookConfig.objects.get(pk=data["id"])
    assert stored.get_secret() == data["secret"]
    assert data["secret"] not in stored.secret_encrypted
    assert data["secret"].encode() not in api.get(f"/api/v1/webhooks/{data['id']}").content
    assert data["secret"].encode() not in api.get("/api/v1/webhooks").content


def test_a_chosen_secret_and_header_values_are_never_returned(api, owner):
    project = project_create(owner=owner, name="P")
    body = {
        "url": "https://hooks.example.com:9000/hook", "event_types": ["experiment.completed"],
        "project": str(project.pk),
        "headers": {"Authorization": HEADER_CANARY, "X-Team": "ml"}, "secret": SECRET_CANARY, "is_active": False,
    }
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["secret"] is None
    assert data["header_names"] == ["Authorization", "X-Team"]
    assert data["project"] == str(project.pk) and data["project_name"] == "P"
    assert data["is_active"] is False
    stored = WebhookConfig.objects.get(pk=data["id"])
    assert stored.get_headers() == {"Authorization": HEADER_CANARY, "X-Team": "ml"}
    assert HEADER_CANARY not in stored.headers_encrypted
    reads = [api.get("/api/v1/webhooks"), api.get(f"/api/v1/webhooks/{data['id']}")]
    for content in [response.content, *(read.content for read in reads)]:
        assert HEADER_CANARY.encode() not in content
        assert SECRET_CANARY.encode() not in content


def test_secrets_and_header_values_are_redacted_from_logs(webhook):
    line = redact(f"POST with {HEADER_CANARY} signed by {SECRET_CANARY}")
    assert "HEADERCANARY" not in line and SECRET_CANARY not in line


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"url": "ftp://hooks.example.com"}, "url"),
        ({"url": "https://user:pw@hooks.example.com"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["run.failed", "run.exploded"]}, "event_types.1"),
        ({"headers": {"Bad Header": "x"}}, "headers.Bad Header"),
        ({"headers": {"X-Ok": "line\nbreak"}}, "headers.X-Ok"),
        ({"headers": {"Content-Length": "1"}}, "headers.Content-Length"),
        ({"headers": ["Authorization"]}, "headers"),
        ({"secret": "short"}, "secret"),
        ({"project": "00000000-0000-0000-0000-000000000000"}, "project"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(api, changes, field):
    body = {"url": "https://hooks.example.com/in", "event_types": list(EVENT_TYPES[:2]), **changes}
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not WebhookConfig.objects.exists()


def test_another_users_project_is_rejected(api, other_user):
    theirs = project_create(owner=other_user, name="T")
    body = {"url": "https://h.example.com", "event_types": ["run.failed"], "project": str(theirs.pk)}
    response = api.post("/api/v1/webhooks", body, format="json")
    assert response.status_code == 400
    assert "project" in response.json()


def test_owner_lists_reads_and_deletes_a_webhook(api, webhook):
    listed = api.get("/api/v1/webhooks").json()
    assert [w["id"] for w in listed["results"]] == [str(webhook.pk)]
    assert listed["results"][0]["header_names"] == ["Authorization"]
    assert api.get(detail(webhook)).json()["event_types"] == ["run.failed"]
    assert api.delete(detail(webhook)).status_code == 204
    assert not WebhookConfig.objects.exists()


def test_another_user_gets_404_for_my_webhook(other_api, webhook):
    assert other_api.get("/api/v1/webhooks").json()["count"] == 0
    assert other_api.get(detail(webhook)).status_code == 404
    assert other_api.delete(detail(webhook)).status_code == 404
    assert WebhookConfig.objects.count() == 1


def test_a_guest_can_neither_read_nor_change_webhooks(anon_api, guest_mode, webhook):
    assert anon_api.get("/api/v1/webhooks").status_code == 401
    assert anon_api.get(detail(webhook)).status_code == 401
    body = {"url": "https://h.example.com", "event_types": ["run.failed"]}
    assert anon_api.post("/api/v1/webhooks", body, format="json").status_code == 401
    assert anon_api.delete(detail(webhook)).status_code == 401
    assert WebhookConfig.objects.count() == 1


def test_anonymous_gets_401(anon_api, webhook):
    assert anon_api.get("/api/v1/webhooks").status_code == 401
    assert anon_api.delete(detail(webhook)).status_code == 401

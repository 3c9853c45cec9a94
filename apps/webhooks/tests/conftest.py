"""Saving a webhook to a given URL, the two ways a user can: the REST API and the Django admin form."""

import pytest


@pytest.fixture
def create_webhook(api):
    """`create(url)`: the owner's REST request for a run.failed webhook to `url`."""
    def create(url: str):
        return api.post("/api/v1/webhooks", {"url": url, "event_types": ["run.failed"]}, format="json")
    return create


@pytest.fixture
def add_in_admin(client, admin_user):
    """`add(url)`: an admin's submission of the admin's add-webhook form for `url`."""
    client.force_login(admin_user)

    def add(url: str):
        return client.post("/admin/webhooks/webhookconfig/add/", {
            "owner": admin_user.pk, "url": url, "event_types": ["run.failed"], "is_active": "on",
        })
    return add


@pytest.fixture
def run_tasks_now(monkeypatch):
    """Run queued tasks in-process at once, by their dotted path, instead of handing them to a broker."""
    from django.utils.module_loading import import_string

    ran: list[tuple] = []

    def run(func: str, *args, **kwargs):
        ran.append((func, args))
        return import_string(func)(*args)

    monkeypatch.setattr("apps.core.queue.async_task", run)
    monkeypatch.setattr("apps.webhooks.delivery.async_task", run)
    return ran


@pytest.fixture
def receiver(db):
    """A webhook receiver on 127.0.0.1, allowlisted for webhooks like an admin would."""
    from apps.core.models import SystemSettings
    from apps.webhooks.tests.receiver import Receiver

    with Receiver() as server:
        system = SystemSettings.load()
        system.egress_allowlist = f"127.0.0.1:{server.port}"
        system.save()
        yield server


@pytest.fixture
def experiment(owner):
    from apps.endpoints.models import Endpoint
    from apps.experiments.services import experiment_create
    from apps.projects.models import Project

    project = Project.objects.create(owner=owner, name="Extraction")
    endpoint = Endpoint.objects.create(owner=owner, label="fake", base_url="http://127.0.0.1:9/v1")
    return experiment_create(user=owner, project=project, data={
        "name": "extract-v2", "sample_data": [{"id": "1", "input": "hi"}],
        "pipeline_stages": [{"name": "s", "endpoint": str(endpoint.pk), "model": "m",
                             "prompt_template": "{{ input }}"}],
    })

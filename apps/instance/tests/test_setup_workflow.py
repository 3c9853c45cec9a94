"""First-boot setup is an instance workflow: the new admin gets the default endpoint and the demo project."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.services import setup_token_issue
from apps.endpoints.models import Endpoint
from apps.projects.models import Project

PASSWORD = "a long enough passphrase"
APPS = pathlib.Path(__file__).resolve().parents[2]
LAYERS = ["core", "accounts", "endpoints", "projects", "experiments", "activity", "runs",
          "exports webhooks", "instance", "api"]


@pytest.fixture
def demo_settings(settings, fake_llm):
    settings.DEFAULT_ENDPOINT_URL = fake_llm.base_url
    settings.DEMO_PROJECT = True
    return settings


def test_setup_through_the_page_seeds_the_demo_for_the_new_admin(
        db, client, demo_settings, django_capture_on_commit_callbacks):
    token = setup_token_issue()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:setup"), {
            "username": "root", "password": PASSWORD, "password_confirm": PASSWORD, "token": token})
    assert response.status_code == 302
    assert Endpoint.objects.filter(owner__username="root", label="Default endpoint").exists()
    assert Project.objects.filter(owner__username="root", name__startswith="Demo").exists()


def test_setup_through_the_api_seeds_the_demo_for_the_new_admin(
        db, demo_settings, django_capture_on_commit_callbacks):
    token = setup_token_issue()
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            "/api/v1/auth/setup", {"username": "root", "password": PASSWORD, "token": token}, format="json")
    assert response.status_code == 201
    assert Project.objects.filter(owner__username="root", name__startswith="Demo").exists()


def test_a_refused_setup_seeds_nothing(db, demo_settings, django_capture_on_commit_callbacks):
    setup_token_issue()
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            "/api/v1/auth/setup", {"username": "root", "password": PASSWORD, "token": "guess"}, format="json")
    assert response.status_code == 403
    assert not Endpoint.objects.exists()


def test_the_setup_page_keeps_its_address_and_name():
    assert reverse("accounts:setup") == "/setup/"


def _strings_naming_higher_layers(path: pathlib.Path, rank: dict[str, int]) -> list[str]:
    app = path.relative_to(APPS).parts[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        # Prose (docstrings) may mention other apps; a dotted path is one token without spaces.
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or " " in node.value:
            continue
        for target in re.findall(r"\bapps\.(\w+)(\.\w+)?", node.value):
            name, module = target
            # Queue task paths are the designed seam (services enqueue by dotted path, never import tasks).
            if rank.get(name, -1) > rank[app] and module != ".tasks":
                found.append(f"{path.relative_to(APPS)}:{node.lineno} {node.value}")
    return found


def test_no_app_reaches_a_higher_layer_through_a_dotted_path_string():
    rank = {app: level for level, names in enumerate(LAYERS) for app in names.split()}
    sources = [path for app in rank for path in (APPS / app).rglob("*.py")
               if not {"tests", "migrations"} & set(path.relative_to(APPS).parts)]
    assert [hit for path in sources for hit in _strings_naming_higher_layers(path, rank)] == []

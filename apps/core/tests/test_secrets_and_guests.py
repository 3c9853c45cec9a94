"""Cross-cutting promises: a stored API key never leaks; guests can change nothing."""

import io
import logging
import re
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from apps.endpoints.models import Endpoint

CANARY = "sk-canary-7f3a9c2e5b1d4c8a9e0f"
PUBLIC_FORMS = {"/api/v1/auth/setup", "/api/v1/auth/login", "/setup/", "/login/"}


def all_table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def api_paths(resolver=None, prefix="") -> list[str]:
    """Every URL pattern of the app, with converters filled in by a placeholder."""
    resolver = resolver or get_resolver()
    paths = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            paths.extend(api_paths(pattern, route))
        elif isinstance(pattern, URLPattern):
            paths.append(route)
    return paths


def concrete(route: str, ids: dict[str, str]) -> str | None:
    if route.startswith("^") or "(?P" in route:
        return None  # regex routes (admin internals, static) are covered by their own tests
    def fill(match):
        name = match.group(2)
        for key, value in ids.items():
            if key in name:
                return value
        return str(uuid.uuid4())
    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


@pytest.fixture
def world(owner, fake_llm, make_world):
    from apps.endpoints.services import endpoint_create

    return make_world(endpoint_create(owner=owner, label="canary", base_url=fake_llm.base_url, api_key=CANARY),
                      model="fake-chat")


def test_the_canary_key_appears_in_no_response_table_dump_or_log(api, owner, client, world, caplog):
    caplog.set_level(logging.DEBUG)
    responses = []
    endpoint_id = world["endpoint"]
    for path in ["/api/v1/endpoints", f"/api/v1/endpoints/{endpoint_id}", "/api/v1/projects",
                 f"/api/v1/experiments/{world['experiment']}", "/api/v1/schema"]:
        responses.append(api.get(path).content)
    responses.append(api.post(f"/api/v1/endpoints/{endpoint_id}/test").content)
    responses.append(api.patch(f"/api/v1/endpoints/{endpoint_id}", {"label": "renamed"}, format="json").content)
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    responses.append(client.get("/admin/endpoints/endpoint/").content)
    responses.append(client.get(f"/admin/endpoints/endpoint/{endpoint_id}/change/").content)
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert Endpoint.objects.get().get_api_key() == CANARY
    for body in responses:
        assert CANARY.encode() not in body
    assert CANARY not in dump.getvalue()
    assert CANARY not in caplog.text


def test_guests_are_refused_every_unsafe_method_on_every_route_and_nothing_changes(anon_api, guest_mode, world):
    ids = {"experiment": world["experiment"], "project": world["project"], "endpoint": world["endpoint"]}
    before = all_table_counts()
    checked = 0
    for route in api_paths():
        path = concrete(route, ids)
        if path is None or path.startswith(("/static", "/admin")):
            continue
        # Login and first-boot setup are public by design; they validate and refuse the empty body.
        allowed = (302, 401, 403, 404, 405) + ((400,) if path in PUBLIC_FORMS else ())
        for method in ("post", "put", "patch", "delete"):
            response = getattr(anon_api, method)(path, {}, format="json")
            assert response.status_code in allowed, (method, path, response.status_code)
            checked += 1
    assert checked > 100
    after = all_table_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t] and not t.startswith("axes")}
    assert changed == {}


def test_guests_can_read_projects_when_guest_access_is_on(anon_api, guest_mode, world):
    assert anon_api.get("/api/v1/projects").status_code == 200
    assert anon_api.get("/api/v1/endpoints").status_code in (401, 403)


def test_without_guest_access_anonymous_reads_are_refused(anon_api, world):
    assert anon_api.get("/api/v1/projects").status_code == 401
    assert anon_api.get(f"/api/v1/experiments/{world['experiment']}").status_code == 401

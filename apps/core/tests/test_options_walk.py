"""OPTIONS on every route answers without a server error, for owners, guests and strangers."""

import pytest

from apps.core.tests.test_secrets_and_guests import api_paths, concrete
from apps.endpoints.models import Endpoint


@pytest.fixture
def ids(owner, make_world):
    return make_world(Endpoint.objects.create(owner=owner, label="e", base_url="http://127.0.0.1:9/v1"))


def options_on_every_route(client, ids) -> dict[str, int]:
    client.raise_request_exception = False
    statuses = {}
    for route in api_paths():
        path = concrete(route, ids)
        if path is None or path.startswith(("/static", "/admin")):
            continue
        statuses[path] = client.options(path).status_code
    return statuses


def test_options_on_every_route_never_fails_for_the_owner(api, ids):
    statuses = options_on_every_route(api, ids)
    assert len(statuses) > 40
    assert {path: code for path, code in statuses.items() if code >= 500} == {}
    assert statuses[f"/api/v1/experiments/{ids['experiment']}"] == 200


def test_options_on_every_route_never_fails_for_a_guest(anon_api, guest_mode, ids):
    statuses = options_on_every_route(anon_api, ids)
    assert {path: code for path, code in statuses.items() if code >= 500} == {}


def test_options_on_every_route_never_fails_for_anonymous(anon_api, ids):
    statuses = options_on_every_route(anon_api, ids)
    assert {path: code for path, code in statuses.items() if code >= 500} == {}
    assert statuses["/api/v1/docs"] < 500


def test_options_names_the_methods_a_route_allows(api, ids):
    response = api.options(f"/api/v1/experiments/{ids['experiment']}")
    assert response.status_code == 200
    assert {"GET", "PATCH", "DELETE"} <= {method.strip() for method in response["Allow"].split(",")}

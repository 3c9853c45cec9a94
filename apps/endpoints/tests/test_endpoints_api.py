import pytest

from apps.endpoints.models import Endpoint
from apps.endpoints.services import endpoint_create

pytestmark = pytest.mark.django_db

CANARY = "CANARYKEY-0123456789abcdef"


@pytest.fixture
def endpoint(owner):
    return endpoint_create(owner=owner, label="local", base_url="http://127.0.0.1:9/v1", api_key=CANARY)


def detail(endpoint):
    return f"/api/v1/endpoints/{endpoint.pk}"


def test_owner_creates_an_endpoint_and_sees_only_that_a_key_exists(api, owner):
    body = {
        "label": "vLLM box", "base_url": "http://gpu.lan:8000/v1/", "api_key": CANARY, "max_concurrency": 16,
        "model_prices": {"llama": {"input": 0.1, "output": 0.2}},
    }
    response = api.post("/api/v1/endpoints", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert CANARY.encode() not in response.content
    assert "api_key" not in data
    assert data["has_api_key"] is True
    assert data["api_key_last4"] == "cdef"
    assert data["base_url"] == "http://gpu.lan:8000/v1"
    assert data["kind"] == "openai"
    stored = Endpoint.objects.get(pk=data["id"])
    assert stored.owner == owner
    assert CANARY not in stored.api_key_encrypted
    assert stored.get_api_key() == CANARY


def test_an_endpoint_without_a_key_says_so(api):
    body = {"label": "ollama", "base_url": "http://ollama:11434/v1"}
    response = api.post("/api/v1/endpoints", body, format="json")
    assert response.status_code == 201
    assert response.json()["has_api_key"] is False
    assert response.json()["api_key_last4"] == ""


def test_the_key_never_appears_in_list_detail_or_update_responses(api, endpoint):
    responses = [
        api.get("/api/v1/endpoints"),
        api.get(detail(endpoint)),
        api.patch(detail(endpoint), {"label": "renamed"}, format="json"),
        api.put(detail(endpoint), {"label": "again", "base_url": "http://127.0.0.1:9/v2"}, format="json"),
    ]
    for response in responses:
        assert response.status_code == 200
        assert CANARY.encode() not in response.content
        assert b"api_key_encrypted" not in response.content
    assert api.get("/api/v1/endpoints").json()["results"][0]["has_api_key"] is True


def test_a_new_key_is_registered_with_the_log_redactor(api):
    from apps.core.logging import redact

    key = "another-canary-key-42"
    body = {"label": "x", "base_url": "https://api.example.com/v1", "api_key": key}
    assert api.post("/api/v1/endpoints", body, format="json").status_code == 201
    assert key not in redact(f"calling with {key}")


def test_patch_without_the_key_field_keeps_the_key(api, endpoint):
    response = api.patch(detail(endpoint), {"max_concurrency": 8}, format="json")
    assert response.status_code == 200
    assert response.json()["has_api_key"] is True
    assert response.json()["api_key_cleared"] is False
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == CANARY
    assert endpoint.max_concurrency == 8


def test_patch_with_an_empty_key_clears_it(api, endpoint):
    response = api.patch(detail(endpoint), {"api_key": ""}, format="json")
    assert response.status_code == 200
    assert response.json()["has_api_key"] is False
    assert response.json()["api_key_cleared"] is True
    endpoint.refresh_from_db()
    assert endpoint.api_key_encrypted == "" and endpoint.api_key_last4 == ""


def test_patch_with_a_new_key_replaces_it(api, endpoint):
    response = api.patch(detail(endpoint), {"api_key": "replacement-key-9876"}, format="json")
    assert response.json()["api_key_last4"] == "9876"
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == "replacement-key-9876"


@pytest.mark.parametrize(
    "new_url",
    ["https://127.0.0.1:9/v1", "http://evil.example:9/v1", "http://127.0.0.1:10/v1", "http://127.0.0.1/v1"],
)
def test_moving_the_url_to_another_origin_clears_the_key(api, endpoint, new_url):
    response = api.patch(detail(endpoint), {"base_url": new_url}, format="json")
    assert response.status_code == 200
    assert response.json()["api_key_cleared"] is True
    assert response.json()["has_api_key"] is False
    endpoint.refresh_from_db()
    assert endpoint.base_url == new_url
    assert endpoint.api_key_encrypted == ""


def test_changing_only_the_path_keeps_the_key(api, endpoint):
    response = api.patch(detail(endpoint), {"base_url": "http://127.0.0.1:9/openai/v1"}, format="json")
    assert response.json()["api_key_cleared"] is False
    assert response.json()["has_api_key"] is True


def test_default_ports_count_as_the_same_origin(api, owner):
    endpoint = endpoint_create(owner=owner, label="h", base_url="https://api.example.com/v1", api_key=CANARY)
    response = api.patch(detail(endpoint), {"base_url": "https://API.example.com:443/v1"}, format="json")
    assert response.json()["api_key_cleared"] is False


def test_moving_the_origin_with_a_new_key_stores_the_new_key(api, endpoint):
    body = {"base_url": "https://api.example.com/v1", "api_key": "fresh-key-1234"}
    response = api.patch(detail(endpoint), body, format="json")
    assert response.json()["api_key_cleared"] is False
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == "fresh-key-1234"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"base_url": "ftp://host/v1"}, "base_url"),
        ({"base_url": "http://user:pass@host/v1"}, "base_url"),
        ({"base_url": "http://host:99999/v1"}, "base_url"),
        ({"base_url": "http:///v1"}, "base_url"),
        ({"base_url": "http://host/v1?key=1"}, "base_url"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": 257}, "max_concurrency"),
        ({"connect_timeout_s": 0}, "connect_timeout_s"),
        ({"read_timeout_s": -1}, "read_timeout_s"),
        ({"kind": "gemini"}, "kind"),
        ({"model_prices": {"gpt": {"input": -1, "output": 1}}}, "model_prices.gpt.input"),
        ({"model_prices": {"gpt": {"input": 1, "output": "cheap"}}}, "model_prices.gpt.output"),
        ({"model_prices": {"gpt": {"input": 1}}}, "model_prices.gpt.output"),
        ({"model_prices": {"gpt": {"input": 1, "output": 1, "cached": 0}}}, "model_prices.gpt.cached"),
        ({"model_prices": {"gpt": 3}}, "model_prices.gpt"),
        ({"model_prices": [1]}, "model_prices"),
        ({"api_key": "has spaces inside"}, "api_key"),
    ],
)
def test_bad_input_is_rejected_naming_the_field(api, body, field):
    payload = {"label": "x", "base_url": "http://host/v1", **body}
    response = api.post("/api/v1/endpoints", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Endpoint.objects.exists()


def test_a_non_finite_timeout_is_rejected(api):
    response = api.generic(
        "POST", "/api/v1/endpoints", '{"label": "x", "base_url": "http://h/v1", "read_timeout_s": NaN}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "read_timeout_s" in response.json()


def test_a_duplicate_label_is_rejected_naming_label(api, endpoint):
    response = api.post("/api/v1/endpoints", {"label": "local", "base_url": "http://h/v1"}, format="json")
    assert response.status_code == 400
    assert "label" in response.json()
    other = endpoint_create(owner=endpoint.owner, label="second", base_url="http://h/v1")
    response = api.patch(detail(other), {"label": "local"}, format="json")
    assert response.status_code == 400
    assert "label" in response.json()


def test_another_user_may_reuse_my_label(other_api, endpoint):
    response = other_api.post("/api/v1/endpoints", {"label": "local", "base_url": "http://h/v1"}, format="json")
    assert response.status_code == 201


def test_a_failed_update_changes_nothing_and_keeps_the_key(api, endpoint):
    for bad in [{"max_concurrency": 0}, {"model_prices": {"m": {}}}, {"label": ""}]:
        response = api.patch(detail(endpoint), {"base_url": "http://elsewhere/v1", **bad}, format="json")
        assert response.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.base_url == "http://127.0.0.1:9/v1"
    assert endpoint.get_api_key() == CANARY


def test_owner_deletes_an_endpoint(api, endpoint):
    assert api.delete(detail(endpoint)).status_code == 204
    assert not Endpoint.objects.exists()


def test_list_filters_and_orders(api, owner):
    endpoint_create(owner=owner, label="b-anthropic", base_url="https://api.anthropic.com", kind="anthropic")
    endpoint_create(owner=owner, label="a-openai", base_url="https://api.openai.com/v1")
    labels = [e["label"] for e in api.get("/api/v1/endpoints?ordering=-label").json()["results"]]
    assert labels == ["b-anthropic", "a-openai"]
    assert [e["label"] for e in api.get("/api/v1/endpoints?kind=anthropic").json()["results"]] == ["b-anthropic"]
    assert [e["label"] for e in api.get("/api/v1/endpoints?search=OPEN").json()["results"]] == ["a-openai"]


def test_another_user_gets_404_for_my_endpoint(other_api, endpoint):
    assert other_api.get("/api/v1/endpoints").json()["count"] == 0
    assert other_api.get(detail(endpoint)).status_code == 404
    assert other_api.patch(detail(endpoint), {"api_key": ""}, format="json").status_code == 404
    full = {"label": "x", "base_url": "http://x/v1"}
    assert other_api.put(detail(endpoint), full, format="json").status_code == 404
    assert other_api.delete(detail(endpoint)).status_code == 404
    assert other_api.post(f"{detail(endpoint)}/test").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == CANARY


def test_a_guest_can_neither_read_nor_change_endpoints(anon_api, guest_mode, endpoint):
    assert anon_api.get("/api/v1/endpoints").status_code == 401
    assert anon_api.get(detail(endpoint)).status_code == 401
    new = {"label": "g", "base_url": "http://g/v1"}
    assert anon_api.post("/api/v1/endpoints", new, format="json").status_code == 401
    assert anon_api.patch(detail(endpoint), {"api_key": ""}, format="json").status_code == 401
    assert anon_api.delete(detail(endpoint)).status_code == 401
    assert anon_api.post(f"{detail(endpoint)}/test").status_code == 401
    assert Endpoint.objects.count() == 1
    assert Endpoint.objects.get().has_api_key


def test_anonymous_gets_401(anon_api, endpoint):
    assert anon_api.get("/api/v1/endpoints").status_code == 401
    assert anon_api.get(detail(endpoint)).status_code == 401

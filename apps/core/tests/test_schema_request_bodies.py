"""The OpenAPI schema describes request bodies as the API checks them, so clients can build valid ones."""

import pytest

pytestmark = pytest.mark.django_db

TYPED = {"type", "$ref", "anyOf", "oneOf", "allOf"}


@pytest.fixture
def components(api) -> dict:
    return api.get("/api/v1/schema?format=json").json()["components"]["schemas"]


def test_every_request_body_field_has_a_json_type(components):
    untyped = [f"{name}.{field}" for name, schema in components.items() if name.endswith("Request")
               for field, spec in schema.get("properties", {}).items() if not TYPED & set(spec)]
    assert untyped == []


@pytest.mark.parametrize(("component", "field", "documented"), [
    ("EndpointInputRequest", "base_url", {"type": "string", "format": "uri"}),
    ("WebhookInputRequest", "url", {"type": "string", "format": "uri"}),
    ("EndpointInputRequest", "read_timeout_s", {"minimum": 0, "exclusiveMinimum": True}),
    ("EndpointInputRequest", "connect_timeout_s", {"minimum": 0, "exclusiveMinimum": True}),
    ("ExperimentUpdateInputRequest", "budget_usd", {"type": "number", "minimum": 0, "nullable": True}),
    ("ExperimentUpdateInputRequest", "budget_tokens", {"minimum": 0, "maximum": 2**63 - 1}),
    ("ExperimentUpdateInputRequest", "pipeline_stages", {"type": "array", "minItems": 1}),
    ("ExperimentUpdateInputRequest", "scoring_config", {"type": "object"}),
    ("SavedConfigInputRequest", "config", {"type": "object"}),
    ("WebhookInputRequest", "headers", {"type": "object", "additionalProperties": {"type": "string"}}),
])
def test_a_request_field_documents_the_bounds_the_api_enforces(components, component, field, documented):
    spec = components[component]["properties"][field]
    assert {key: spec.get(key) for key in documented} == documented


def test_the_leaderboard_order_is_documented_as_asc_or_desc(api):
    operation = api.get("/api/v1/schema?format=json").json()["paths"][
        "/api/v1/experiments/{experiment_id}/leaderboard"]["get"]
    order = next(p for p in operation["parameters"] if p["name"] == "order")
    assert order["schema"]["enum"] == ["asc", "desc"]

"""GET /api/v1/analytics/models: model performance per model and endpoint over sweeps and gateway traffic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.analytics.tests.builders import add_calls, add_requests, make_deployment, make_endpoint, make_run

pytestmark = pytest.mark.django_db
URL = "/api/v1/analytics/models"


@pytest.fixture
def traffic(owner):
    """gpt-small: 2 sweep calls (100, 300 ms, 1 cache hit) + 2 gateway requests (50 ms, 1 failure); gpt-large:
    1 sweep call 8 days ago."""
    main = make_endpoint(owner)
    run = make_run(owner, [(main, "gpt-small"), (main, "gpt-large")])
    add_calls(run, stage=0, latencies=[100, 300], cached=1, tokens=(1000, 0))
    add_calls(run, stage=1, latencies=[20], at=timezone.now() - timedelta(days=8))
    add_requests(make_deployment(owner, main), latencies=[50], failed=1, cost="0.004")
    return main


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def test_it_returns_kpis_and_one_row_per_model_and_endpoint(api, traffic):
    body = ok(api.get(URL))

    assert body["window"]["name"] == "7d" and body["window"]["since"] and body["window"]["until"] is None
    assert body["source"] == "all"
    (row,) = body["models"]
    assert row == {
        "model": "gpt-small", "endpoint_id": str(traffic.pk), "endpoint_label": "Main",
        "calls": 4, "sweep_calls": 2, "gateway_calls": 2, "cache_hits": 1, "errors": 1, "error_rate": 25.0,
        "avg_latency_ms": 150.0, "min_latency_ms": 50, "max_latency_ms": 300,
        "tokens_in": 2020, "tokens_out": 10, "total_cost_usd": pytest.approx(0.006),
        "cost_per_call_usd": pytest.approx(0.0015), "priced": True,
    }
    kpis = body["kpis"]
    assert (kpis["total_calls"], kpis["cache_hits"], kpis["errors"], kpis["avg_latency_ms"]) == (4, 1, 1, 150.0)
    assert kpis["fastest"]["model"] == kpis["cheapest"]["model"] == "gpt-small"


def test_the_window_and_source_narrow_the_numbers(api, traffic):
    everything = ok(api.get(URL, {"window": "all"}))
    assert {row["model"]: row["calls"] for row in everything["models"]} == {"gpt-small": 4, "gpt-large": 1}
    assert [row["calls"] for row in ok(api.get(URL, {"source": "sweeps"}))["models"]] == [2]
    assert [row["calls"] for row in ok(api.get(URL, {"source": "gateway", "window": "24h"}))["models"]] == [2]
    since = (timezone.now() - timedelta(days=9)).isoformat()
    until = (timezone.now() - timedelta(days=7)).isoformat()
    custom = ok(api.get(URL, {"since": since, "until": until}))
    assert custom["window"]["name"] == "custom"
    assert [(row["model"], row["calls"]) for row in custom["models"]] == [("gpt-large", 1)]


def test_bad_parameters_are_refused_by_name(api):
    assert "window" in api.get(URL, {"window": "1y"}).json()
    assert "source" in api.get(URL, {"source": "logs"}).json()
    assert "since" in api.get(URL, {"since": "last tuesday"}).json()
    assert "until" in api.get(URL, {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}).json()
    assert "window" in api.get(URL, {"window": "24h", "since": "2025-01-01T00:00:00Z"}).json()


def test_it_validates_ownership_another_user_sees_only_their_own_calls(other_api, traffic):
    body = ok(other_api.get(URL, {"window": "all"}))
    assert body["models"] == [] and body["kpis"]["total_calls"] == 0
    assert body["kpis"]["fastest"] is None and body["kpis"]["cheapest"] is None


def test_a_guest_and_anonymous_are_refused(anon_api, guest_mode, traffic):
    assert anon_api.get(URL).status_code == 401

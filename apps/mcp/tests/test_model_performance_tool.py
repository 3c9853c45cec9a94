"""The `model_performance` tool: the same numbers as GET /api/v1/analytics/models, for the same key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from apps.analytics.tests.builders import add_calls, add_requests, make_deployment, make_endpoint, make_run
from apps.mcp.tests.helpers import in_memory, structured, text_of
from conftest import make_user

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@sync_to_async
def traffic(owner) -> None:
    main, other = make_endpoint(owner), make_endpoint(owner, "Other", prices={})
    run = make_run(owner, [(main, "gpt-small"), (other, "llama3")])
    add_calls(run, stage=0, latencies=[100, 300], cached=1, errors=1, tokens=(1000, 10))
    add_calls(run, stage=1, latencies=[40], at=timezone.now() - timedelta(days=3))
    add_requests(make_deployment(owner, main), latencies=[50, 70], failed=1, cost="0.004")
    stranger = make_user("stranger")
    add_requests(make_deployment(stranger, make_endpoint(stranger)), latencies=[1, 1, 1])


async def test_it_returns_the_same_numbers_as_the_rest_api(agent):
    await traffic(agent.user)
    for query in ({"window": "all"}, {"window": "24h", "source": "sweeps"}, {"source": "gateway"}):
        rest = (await sync_to_async(agent.rest.get)("/api/v1/analytics/models", query)).json()
        async with in_memory(agent.key) as client:
            tool = structured(await client.call_tool("model_performance", query))
        assert tool["models"] == rest["models"] and tool["kpis"] == rest["kpis"], query
        assert tool["window"]["name"] == rest["window"]["name"]
    assert {row["model"]: row["calls"] for row in tool["models"]} == {"gpt-small": 3}
    assert tool["kpis"]["cheapest"]["model"] == "gpt-small"


async def test_a_bad_window_is_an_error_that_names_it(agent):
    async with in_memory(agent.key) as client:
        result = await client.call_tool("model_performance", {"window": "24h", "since": "2025-01-01T00:00:00Z"})
    assert result.is_error and "window" in text_of(result)

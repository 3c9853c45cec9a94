"""The live view's estimate panel shows tokens and cost as ranges, where they come from, and budget shortfalls."""

import pytest

from apps.web.tests.builders import htmx
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db


def panel(client, experiment) -> str:
    return htmx(client, url("experiment_estimate", experiment) + "?type=grid",
                target="experiment-estimate").content.decode()


def test_the_estimate_panel_shows_the_rest_dry_runs_token_and_cost_ranges(client, api, owner, runnable):
    estimate = api.post(f"/api/v1/experiments/{runnable.pk}/sweep", {"dry_run": True}, format="json").json()[
        "estimate"]
    client.force_login(owner)

    html = panel(client, runnable)

    tokens, cost = estimate["tokens"], estimate["cost_usd_range"]
    assert tokens["low"] < tokens["high"]
    assert f"<dt>Tokens (range)</dt><dd>{tokens['low']:,} – {tokens['high']:,}</dd>" in html
    assert f"<dt>Cost range (USD)</dt><dd>${cost['low']:.4f} – ${cost['high']:.4f}</dd>" in html
    assert "fake-chat: no history yet, characters ÷ 4" in html


def test_the_estimate_panel_says_by_how_much_the_experiments_budget_is_short(client, api, owner, runnable):
    runnable.budget_tokens = 20
    runnable.save(update_fields=["budget_tokens"])
    budget = api.post(f"/api/v1/experiments/{runnable.pk}/sweep", {"dry_run": True}, format="json").json()["budget"]
    client.force_login(owner)

    html = panel(client, runnable)

    assert budget["short_tokens"] > 0
    assert 'role="alert"' in html and f"budget 20: {budget['short_tokens']:,} short." in html

"""From a deployment to an activated winner in a real browser: create a deployment, a gateway key and two
versions, run an A/B test over real gateway traffic (against the fake LLM server's A/B model, where one
prompt always answers empty), watch the metrics refresh while it runs, and complete it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in

pytestmark = pytest.mark.browser

SESSIONS = 40
LOSER = "You answer support emails. ALWAYS EMPTY"  # the fake A/B model answers this prompt with nothing
WINNER = "You answer support emails. Be concise."  # ... and this one non-empty 95% of the time


def test_a_deployment_ab_test_over_gateway_traffic_activates_the_winner(page: Page, first_boot: FirstBoot,
                                                                         fake_llm_session):
    stack = first_boot.stack
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations before start and complete
    log_in(page, username=first_boot.username, password=first_boot.password)
    with api_client(stack, create_api_key(page, name="deployments test")) as api:
        api.post("/endpoints", json={"label": "Fake A/B", "base_url": fake_llm_session.base_url}).raise_for_status()

    page.goto("/deployments/")
    page.get_by_role("link", name="New deployment").click()
    page.get_by_label("Name:", exact=True).fill("Support bot")
    page.get_by_label("Endpoint").select_option(label="Fake A/B")
    page.get_by_label("Model").fill("ab-chat")
    page.get_by_role("button", name="Create deployment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Support bot")

    keys = page.locator("#deployment-keys")
    keys.get_by_label("Key name").fill("browser")
    keys.get_by_role("button", name="Create key").click()
    raw_key = keys.get_by_label("New gateway key").input_value()
    assert raw_key.startswith("plg_")
    expect(page.locator("#deployment-curl")).to_contain_text(f"{stack.base_url}/gateway/v1/chat/completions")

    page.get_by_role("link", name="Versions").click()
    for prompt in (LOSER, WINNER):
        page.get_by_label("System prompt").fill(prompt)
        page.get_by_role("button", name="Add version").click()
        expect(page.get_by_role("status")).to_contain_text("added")
    expect(page.locator("#version-1")).to_contain_text("Active")

    page.get_by_role("link", name="Experiments").click()
    page.get_by_label("Name:", exact=True).fill("Concise or not")
    page.get_by_label("Weight of v2").fill("50")
    page.get_by_label("Minimum requests per variant").fill("10")
    # The fake server's latency is noise on a loaded machine: this test is about traffic and success rates.
    page.get_by_label("Guardrail: latency may rise by at most (%)").fill("1000")
    page.get_by_role("button", name="Create A/B test").click()
    expect(page.get_by_role("status")).to_contain_text("created as a draft")
    page.get_by_role("button", name="Start the A/B test").click()
    expect(page.get_by_role("status")).to_contain_text("started")
    metrics = page.locator("#abtest-metrics")
    expect(metrics).to_contain_text("Refreshed every 3 seconds")

    with httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {raw_key}"}, timeout=10) as gw:
        for n in range(SESSIONS):
            reply = gw.post("/gateway/v1/chat/completions", json={
                "model": "ab-chat", "user": f"session-{n}",
                "messages": [{"role": "user", "content": f"Where is parcel {n}?"}]})
            assert reply.status_code == 200, reply.text

    # The page polls its metrics while the test runs: the traffic appears without a reload.
    page.evaluate("window.notReloaded = true")
    control = metrics.get_by_role("row").filter(has_text="v1 (control)")
    expect(control).to_contain_text(re.compile(r"0\.0%"))
    expect(metrics.get_by_role("row").filter(has_text="✓ yes")).to_have_count(1)
    totals = [int(text.split()[0]) for text in metrics.locator("tbody td:nth-child(3)").all_inner_texts()]
    assert sum(totals) == SESSIONS and all(totals)
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("button", name="Complete the A/B test").click()
    decision = page.locator("#abtest-decision")
    expect(decision).to_contain_text("Winner: v2")
    expect(decision).to_contain_text("v2 was significantly better than v1 (control)")
    expect(metrics).not_to_contain_text("Refreshed every")
    page.get_by_role("link", name="Versions").click()
    expect(page.locator("#version-2")).to_contain_text("Active")

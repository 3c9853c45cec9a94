"""The live view follows the sweep's state without a reload: the steering buttons, their confirmations with
the live numbers, the start panel (gone while a sweep runs, back once it ends) and the redirect preview."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import (
    FirstBoot,
    api_client,
    create_api_key,
    log_in,
    on_socket_open,
    wait_for_socket,
)
from apps.web.tests.browser.test_sweep_in_browser import experiment_body

pytestmark = pytest.mark.browser

PUSH_TIMEOUT_MS = 30_000
TEMPERATURES = [0.1 * n for n in range(1, 9)]


def test_steering_confirms_the_numbers_and_the_start_panel_comes_and_goes_live(
        page: Page, first_boot: FirstBoot, fake_llm):
    fake_llm.latency_ms = 200  # one call at a time: slow enough to steer mid-sweep
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="live panels test")
    with api_client(first_boot.stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake panels", "base_url": fake_llm.base_url,
                                                "max_concurrency": 1}).raise_for_status()
        project = api.post("/projects", json={"name": "Panels project"}).raise_for_status()
        body = {**experiment_body(project.json()["id"], endpoint.json()["id"]), "name": "Panels sweep",
                "sample_data": [{"id": "i0", "input": "panel document", "reference": "document"}],
                "parameter_space": [{"path": "stages.0.params.temperature", "values": TEMPERATURES}]}
        experiment_id = api.post("/experiments", json=body).raise_for_status().json()["id"]
        assert api.post(f"/experiments/{experiment_id}/sweep", json={}).status_code == 202

    on_socket_open(page)
    page.goto(f"/experiments/{experiment_id}/")
    wait_for_socket(page)
    page.evaluate("window.notReloaded = true")
    progress = page.locator("#experiment-progress")
    start_panel = page.locator("#experiment-start")
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_have_count(0)
    confirmations: list[str] = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))

    progress.get_by_role("button", name="Pause").click()
    expect(progress.locator("[data-sweep-status]")).to_have_text("Paused")
    assert re.fullmatch(r"Pause the sweep\? \d+ runs? in flight finish; \d+ queued runs? wait until you resume\.",
                        confirmations[-1]), confirmations
    expect(progress.get_by_role("button", name="Pause")).to_have_count(0)
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_have_count(0)  # paused: steer it instead

    # The redirect page previews the plan a new space gives before anything changes.
    progress.get_by_role("link", name="Redirect the remaining plan…").click()
    # (A driver hands back runs it had claimed as it pauses, so the count is read live, not from the page.)
    page.get_by_label("Remaining parameter space (JSON)").fill(
        '[{"path": "stages.0.params.temperature", "values": [0.95, 0.99]}]')
    expect(page.locator("#redirect-preview")).to_contain_text(
        re.compile(r"If applied now: [1-9]\d* queued runs? dropped, 2 planned instead"))
    page.get_by_role("link", name="Cancel").click()

    wait_for_socket(page)
    page.evaluate("window.notReloaded = true")
    progress.get_by_role("button", name="Resume").click()
    expect(progress.locator("[data-sweep-status]")).to_have_text("Running")
    assert re.match(r"Resume the sweep\? [1-9]\d* queued runs? start running again; \d+ of 8 are done\.",
                    confirmations[-1]), confirmations
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_have_count(0)
    progress.get_by_role("button", name="Stop").click()
    assert re.fullmatch(r"Stop the sweep\? \d+ queued runs? will not run.*; \d+ finished runs? (is|are) kept\.",
                        confirmations[-1]), confirmations
    expect(progress.locator("[data-sweep-status]")).to_have_text("Stopped")
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_be_visible()  # pushed: the sweep ended

    # A new sweep from the panel; when the worker finishes it, the panel is pushed back in without a reload.
    expect(start_panel.locator("#experiment-estimate")).to_contain_text("Runs")
    start_panel.get_by_role("button", name=re.compile(r"^Start 8 runs")).click()
    expect(page.get_by_role("status").first).to_contain_text("Sweep started: 8 runs planned.")
    wait_for_socket(page)
    page.evaluate("window.notReloaded = true")
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_have_count(0)
    expect(progress.locator("[data-sweep-status]")).to_have_text("Completed", timeout=PUSH_TIMEOUT_MS)
    expect(start_panel.get_by_role("heading", name="Start a sweep")).to_be_visible()
    expect(start_panel.locator("#experiment-estimate")).to_contain_text("Cached calls")
    assert page.evaluate("window.notReloaded") is True

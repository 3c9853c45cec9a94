"""Steering from the live view: pause and resume change the status on the open page without a reload,
and a redirect changes the remaining plan; the worker process runs the sweep against the fake LLM server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in
from apps.web.tests.browser.test_sweep_in_browser import experiment_body

pytestmark = pytest.mark.browser

PUSH_TIMEOUT_MS = 30_000  # the whole remaining sweep runs in the worker before "Completed" is pushed
TEMPERATURES = [0.05 * n for n in range(1, 13)]


def test_pause_resume_and_redirect_from_the_live_view(page: Page, first_boot: FirstBoot, fake_llm):
    fake_llm.latency_ms = 250  # one call at a time, slow enough to pause mid-sweep
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="steering test")
    with api_client(first_boot.stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake steering", "base_url": fake_llm.base_url,
                                                "max_concurrency": 1}).raise_for_status()
        project = api.post("/projects", json={"name": "Steering project"}).raise_for_status()
        body = {**experiment_body(project.json()["id"], endpoint.json()["id"]), "name": "Steered sweep",
                "sample_data": [{"id": "i0", "input": "steering document", "reference": "document"}],
                "parameter_space": [{"path": "stages.0.params.temperature", "values": TEMPERATURES}]}
        experiment = api.post("/experiments", json=body)
        assert experiment.status_code == 201, experiment.text
        experiment_id = experiment.json()["id"]
        assert api.post(f"/experiments/{experiment_id}/sweep", json={}).status_code == 202

    page.goto(f"/experiments/{experiment_id}/")
    page.evaluate("window.notReloaded = true")
    progress = page.locator("#experiment-progress")
    status = progress.locator("[data-sweep-status]")
    page.on("dialog", lambda dialog: dialog.accept())  # each steering button confirms what it will do

    progress.get_by_role("button", name="Pause").click()
    expect(status).to_have_text("Paused")
    expect(progress).to_contain_text("paused by user")
    progress.get_by_role("button", name="Resume").click()
    expect(status).to_have_text("Running")
    progress.get_by_role("button", name="Pause").click()
    expect(status).to_have_text("Paused")
    assert page.evaluate("window.notReloaded") is True  # each change swapped in, not reloaded
    # Paused means nothing new is claimed; a run in flight (or claimed, not yet started) still settles.
    expect(progress.locator("dt:has-text('In flight') + dd")).to_have_text("0 runs")

    progress.get_by_role("link", name="Redirect the remaining plan…").click()
    queued = int(re.search(r"(\d+) queued runs? not started", page.locator("#remaining-plan").inner_text())[1])
    assert queued > 0
    page.get_by_label("Remaining parameter space (JSON)").fill(
        '[{"path": "stages.0.params.temperature", "values": [0.99]}]')
    page.get_by_role("button", name="Replace the remaining plan").click()
    expect(page.get_by_role("status")).to_contain_text(f"Plan redirected: {queued} queued runs dropped, 1 planned.")
    total = len(TEMPERATURES) - queued + 1
    expect(progress).to_contain_text(re.compile(rf"\d+ of {total} runs"))

    progress.get_by_role("button", name="Resume").click()
    expect(status).to_have_text("Completed", timeout=PUSH_TIMEOUT_MS)  # pushed live when the worker finishes
    expect(progress).to_contain_text(f"{total} of {total} runs")

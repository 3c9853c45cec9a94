"""The dashboard updates live: a sweep started over the REST API while the dashboard is open shows up
finished on it without a reload (relay without Redis, channels-redis with it: the run's mode)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in, wait_for_sweep
from apps.web.tests.browser.test_sweep_in_browser import experiment_body

pytestmark = pytest.mark.browser

# Pushes are coalesced and rendered in another process: a few seconds at most after the sweep ends.
PUSH_TIMEOUT_MS = 5_000
OPENED = "document.addEventListener('htmx:wsOpen', () => { window.dashboardSocketOpen = true; });"


def runs_shown(page: Page) -> int:
    return int(page.locator("#dashboard-totals").get_by_role("definition").first.inner_text().replace(",", ""))


def test_the_open_dashboard_shows_a_sweep_started_over_the_api_finish_without_a_reload(
        page: Page, first_boot: FirstBoot, fake_llm):
    stack = first_boot.stack
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="live dashboard test")
    page.add_init_script(OPENED)
    page.goto("/")
    page.wait_for_function("window.dashboardSocketOpen === true")
    runs_before = runs_shown(page)
    page.evaluate("window.notReloaded = true")

    with api_client(stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake live", "base_url": fake_llm.base_url}).raise_for_status()
        project = api.post("/projects", json={"name": "Live project"}).raise_for_status()
        body = {**experiment_body(project.json()["id"], endpoint.json()["id"]), "name": "Live sweep",
                # inputs of its own: the other browser tests' sweeps must not find these calls cached
                "sample_data": [{"id": f"i{n}", "input": f"live document {n}", "reference": "document"}
                                for n in range(3)]}
        experiment = api.post("/experiments", json=body)
        assert experiment.status_code == 201, experiment.text
        started = api.post(f"/experiments/{experiment.json()['id']}/sweep", json={})
        assert started.status_code == 202, started.text
        sweep = wait_for_sweep(api, stack, started.json()["sweep"]["id"])
    assert sweep["status"] == "completed", sweep

    finished = page.locator("#dashboard-feed li").filter(has_text="Every run of a sweep has finished.")
    expect(finished.filter(has_text="Live sweep")).to_have_count(1, timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#dashboard-totals").get_by_role("definition").first).to_have_text(
        f"{runs_before + 2:,}", timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#dashboard-bests")).to_contain_text("Live sweep", timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#dashboard-sweeps")).to_contain_text("No sweep is running or paused.",
                                                              timeout=PUSH_TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True  # the same document all along: pushed, not reloaded

"""End to end: a key made in the browser starts a sweep over the REST API, the real worker process
runs it against the fake LLM server, and the dashboard shows the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in, wait_for_sweep

pytestmark = pytest.mark.browser


def experiment_body(project_id: str, endpoint_id: str) -> dict:
    return {
        "project": project_id, "name": "Browser sweep",
        "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": "document"} for n in range(3)],
        "pipeline_stages": [{"name": "answer", "endpoint": endpoint_id, "model": "fake-chat",
                             "prompt_template": "Answer: {{ input }}"}],
        "parameter_space": [{"path": "stages.0.params.temperature", "values": [0.2, 0.8]}],
        "scoring_config": {"scorers": [{"type": "keyword", "options": {"keywords": ["document"]}}]},
    }


def test_a_sweep_started_with_a_key_made_in_the_browser_is_run_by_the_worker_and_shown_on_the_dashboard(
        page: Page, first_boot: FirstBoot, fake_llm):
    stack = first_boot.stack
    log_in(page, username=first_boot.username, password=first_boot.password)
    page.goto("/")
    runs_before = int(page.locator("#dashboard-totals").get_by_role("definition").first.inner_text())
    key = create_api_key(page, name="browser test")
    assert key.startswith("pl_")
    with api_client(stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake (sweep)",
                                             "base_url": fake_llm.base_url}).raise_for_status()
        project = api.post("/projects", json={"name": "Browser project"}).raise_for_status()
        experiment = api.post("/experiments", json=experiment_body(project.json()["id"], endpoint.json()["id"]))
        assert experiment.status_code == 201, experiment.text
        started = api.post(f"/experiments/{experiment.json()['id']}/sweep", json={})
        assert started.status_code == 202, started.text
        sweep = wait_for_sweep(api, stack, started.json()["sweep"]["id"])
    assert sweep["status"] == "completed", sweep
    assert fake_llm.stats["chat"] == 6  # 2 temperatures × 3 items, each a real call from the worker

    page.goto("/")
    totals = page.locator("#dashboard-totals")
    # Other browser tests run sweeps as the same admin: count from what the dashboard showed before.
    expect(totals.get_by_role("definition").first).to_have_text(str(runs_before + 2))
    expect(page.locator("#dashboard-feed")).to_contain_text("Every run of a sweep has finished.")
    expect(page.locator("#dashboard-feed")).to_contain_text("Browser sweep")
    expect(page.locator("#dashboard-bests")).to_contain_text("Browser sweep")
    expect(page.locator("#dashboard-sweeps")).to_contain_text("No sweep is running or paused.")

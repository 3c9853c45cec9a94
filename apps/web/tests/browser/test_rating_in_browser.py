"""The rating queue from the keyboard: stars, a comment typed without triggering shortcuts, save, skip."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in, wait_for_sweep

pytestmark = pytest.mark.browser


def test_outputs_are_rated_and_skipped_with_the_keyboard(page: Page, first_boot: FirstBoot, fake_llm):
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="rating test")
    with api_client(first_boot.stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake (rating)",
                                             "base_url": fake_llm.base_url}).raise_for_status()
        project = api.post("/projects", json={"name": "Rating project"}).raise_for_status()
        experiment = api.post("/experiments", json={
            "project": project.json()["id"], "name": "Rated by hand",
            "sample_data": [{"id": f"i{n}", "input": f"document {n}", "reference": "document"} for n in range(3)],
            "pipeline_stages": [{"name": "answer", "endpoint": endpoint.json()["id"], "model": "fake-chat",
                                 "prompt_template": "Answer: {{ input }}"}],
            "scoring_config": {"scorers": [{"type": "human", "name": "human", "options": {"scale": "both"}}]},
        }).raise_for_status().json()
        started = api.post(f"/experiments/{experiment['id']}/sweep", json={}).raise_for_status()
        assert wait_for_sweep(api, first_boot.stack, started.json()["sweep"]["id"])["status"] == "completed"

    page.goto(f"/experiments/{experiment['id']}/rate/")
    page.evaluate("window.notReloaded = true")
    queue = page.locator("#rating-queue")
    expect(queue).to_contain_text("0 of 3 rated")
    expect(queue).to_contain_text("document 0")

    page.keyboard.press("4")
    expect(queue.get_by_label("4 stars")).to_be_checked()
    page.keyboard.press("u")  # thumbs replace the stars: one rating at a time
    expect(queue.get_by_label("Up")).to_be_checked()
    expect(queue.get_by_label("4 stars")).not_to_be_checked()
    page.keyboard.press("5")
    queue.get_by_label("Comment").fill("")
    queue.get_by_label("Comment").press_sequentially("good 2 u")  # shortcuts stay quiet while typing
    expect(queue.get_by_label("5 stars")).to_be_checked()
    page.locator("h1").click()
    page.keyboard.press("Enter")
    expect(queue).to_contain_text("1 of 3 rated")
    expect(queue).to_contain_text("document 1")
    assert page.evaluate("window.notReloaded") is True, "save"

    page.keyboard.press("s")
    expect(queue).to_contain_text("document 2")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("n")
    expect(queue).to_contain_text("2 of 3 rated")
    expect(queue).to_contain_text("You skipped the remaining 1 unrated output.")
    assert page.evaluate("window.notReloaded") is True

    page.set_viewport_size({"width": 390, "height": 800})
    assert queue.evaluate("el => el.getBoundingClientRect().right <= 390 && el.scrollWidth <= el.clientWidth")

"""The whole journey of a new user, in the browser only (no API call): first-boot setup, log in, add and
test an endpoint, create a project, build a 2-stage experiment from a CSV file, read the dry run, start it
and watch it finish live, sort the leaderboard, open a run, rate outputs, compare two runs, fork the best
and download its .env export. The worker process runs the sweep against the fake LLM server.

The package's first-boot setup happens once (the `first_boot` fixture, in a browser, the same form a new
user fills in); this journey checks what it showed, then signs that admin in afresh.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import (
    FirstBoot,
    cells_of,
    log_in,
    on_socket_open,
    stat,
    wait_for_socket,
)

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).parent / "data" / "journey_samples.csv"
RUBRIC = ["thank", "sorry", "ticket", "24 hours", "reply"]
# Slow enough that the sweep is still running when the live view's socket opens: the finish is pushed.
LATENCY_MS = 400
SWEEP_TIMEOUT_MS = 30_000
# The sweep's status and "X of Y runs", read at one instant.
SHOWN = ("el => [el.querySelector('[data-sweep-status]').textContent.trim(),"
         " el.querySelector('.progress-count').textContent.trim()]")
# Leaderboard cells: Compare, Rank, Weighted score, n, then the scorer, then the swept temperature.


def test_a_new_user_builds_runs_watches_rates_compares_forks_and_exports_an_experiment_in_the_browser(
        page: Page, first_boot: FirstBoot, fake_llm):
    assert first_boot.landed_on == f"{first_boot.stack.base_url}/" and first_boot.problems == []
    fake_llm.latency_ms = LATENCY_MS
    log_in(page, username=first_boot.username, password=first_boot.password)
    expect(page.get_by_role("banner")).to_contain_text(first_boot.username)

    # An endpoint pointing at the fake LLM server; testing it lists its models.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Endpoints").click()
    page.get_by_role("link", name="Add endpoint").first.click()
    page.get_by_label("Label").fill("Journey LLM")
    page.get_by_label("Base URL").fill(fake_llm.base_url)
    page.get_by_label("Model prices").fill("demo-pro 30 60")  # USD per 1M tokens in and out
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("heading", name="Endpoint “Journey LLM”")).to_be_visible()
    page.get_by_role("button", name="Test connection").click()
    connection = page.locator("#endpoint-test")
    expect(connection).to_contain_text(re.compile(r"Connected in \d+ ms; \d+ models available"))
    expect(connection.get_by_role("listitem").filter(has_text="demo-pro")).to_have_count(1)

    # A project, and a new experiment in it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Journey project")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Journey project", level=1)).to_be_visible()
    page.get_by_role("link", name="New experiment").click()
    expect(page.get_by_role("heading", name="New experiment")).to_be_visible()
    page.get_by_label("Name:", exact=True).fill("Journey experiment")

    # Samples from a CSV file, previewed before they replace the table.
    samples = page.locator("#experiment-samples")
    samples.get_by_label("JSON, JSONL, CSV").set_input_files(SAMPLES)
    samples.get_by_role("button", name="Preview the import").click()
    expect(samples.get_by_role("status")).to_contain_text("Preview of journey_samples.csv: 3 items")
    samples.get_by_role("button", name="Replace the table").click()
    expect(samples.get_by_label("Row 1 input")).to_have_value("My parcel has not arrived after two weeks.")
    expect(samples.get_by_label("Row 3 reference")).to_have_value("thank ticket 24 hours")

    # Stage 1 drafts a reply; stage 2 (same endpoint and model, copied) polishes the draft.
    first = page.get_by_role("group", name=re.compile(r"^Stage 1"))
    first.get_by_label("Stage name").fill("draft")
    first.get_by_label("Endpoint").select_option(label="Journey LLM")
    expect(first).to_contain_text(re.compile(r"\d+ models listed by the endpoint"))
    first.get_by_label("Model").fill("demo-pro")
    first.get_by_label("System prompt").fill("Thank the customer, apologise and open a ticket.")
    first.get_by_label("Prompt template").fill("Customer: {{ input }}")
    page.get_by_role("button", name="Add a stage").click()
    second = page.get_by_role("group", name=re.compile(r"^Stage 2"))
    expect(second.get_by_label("Model")).to_have_value("demo-pro")
    expect(second).to_contain_text("{{ previous }}")
    second.get_by_label("Stage name").fill("polish")
    second.get_by_label("System prompt").fill("Promise a reply within 24 hours.")
    second.get_by_label("Prompt template").fill("Polish this draft: {{ previous }}")

    page.get_by_role("button", name="Add a scorer").click()
    scorer = page.get_by_role("group", name="Scorer 1")
    scorer.get_by_label("Scorer type").select_option("keyword")
    scorer.get_by_label("Options (JSON object)").fill(json.dumps({"keywords": RUBRIC}))

    # One axis: stage 2's temperature; the count of combinations follows the values as they are typed.
    page.get_by_role("button", name="Add an axis").click()
    axis = page.get_by_role("group", name="Axis 1")
    axis.get_by_label("Sweeps").select_option("stages.1.params.temperature")
    count = page.locator("#builder-space-count")
    axis.get_by_label("Values:", exact=True).press_sequentially("0.2")
    expect(count).to_contain_text("1 combination × 1 repeat × 3 items = 3 calls per stage, 6 in all (2 stages)")
    axis.get_by_label("Values:", exact=True).press_sequentially("\n0.8")
    expect(count).to_contain_text("2 combinations × 1 repeat × 3 items = 6 calls per stage, 12 in all (2 stages)")
    page.get_by_role("button", name="Create the experiment").click()

    # The live view: the dry run before anything is spent, and a start button that says what it spends.
    expect(page.get_by_role("heading", name="Journey experiment", level=1)).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Experiment “Journey experiment” created.")
    estimate = page.locator("#experiment-estimate")
    expect(stat(estimate, "Runs")).to_have_text("2")
    expect(stat(estimate, "Calls")).to_have_text("12")
    expect(stat(estimate, "Tokens in / out")).to_have_text(re.compile(r"≈ [1-9][\d,]* / [1-9][\d,]*"))
    expect(stat(estimate, "Cost (USD)")).to_have_text(re.compile(r"^≈ \$\d+\.\d{4}$"))
    cost = stat(estimate, "Cost (USD)").inner_text().removeprefix("≈ ")
    assert cost != "$0.0000", "the endpoint's prices price the estimate"
    start = estimate.get_by_role("button", name=re.compile(
        rf"^Start 2 runs · ≈ [1-9][\d,]* tokens · ≈ {re.escape(cost)}$"))
    expect(start).to_be_visible()

    # Start, then watch progress reach 100% on the same document: pushed over the WebSocket, not reloaded.
    on_socket_open(page)
    start.click()
    expect(page.get_by_role("status").first).to_contain_text("Sweep started: 2 runs planned.")
    wait_for_socket(page)
    page.evaluate("window.notReloaded = true")
    progress = page.locator("#experiment-progress")
    status, count_text = progress.locator("[data-sweep-status]"), progress.locator(".progress-count")
    shown_first = progress.evaluate(SHOWN)
    assert shown_first[0] != "Completed" and shown_first[1] != "2 of 2 runs", shown_first
    expect(status).to_have_text("Completed", timeout=SWEEP_TIMEOUT_MS)
    expect(count_text).to_have_text("2 of 2 runs")
    expect(progress.get_by_role("progressbar")).to_have_attribute("value", "2")
    expect(stat(progress, "Cost (USD)")).not_to_have_text("$0.0000")
    rows = page.locator("#leaderboard-rows").get_by_role("row")
    expect(rows).to_have_count(2)
    assert page.evaluate("window.notReloaded") is True

    # Sort the leaderboard by the scorer: highest first, then lowest first.
    board = page.locator("#experiment-leaderboard")
    keyword = board.get_by_role("columnheader", name="keyword")
    expect(keyword).to_have_attribute("aria-sort", "none")
    keyword.get_by_role("link").click()
    expect(board.get_by_role("columnheader", name="keyword")).to_have_attribute("aria-sort", "descending")
    expect(board).to_contain_text("sorted by keyword, highest first")
    # Columns by their header, as a person finds them (the leaderboard's columns change as it grows).
    headers = [text.strip() for text in board.get_by_role("columnheader").all_inner_texts()]
    keyword_at = next(i for i, text in enumerate(headers) if text.startswith("keyword"))
    temperature_at = next(i for i, text in enumerate(headers) if text.endswith("temperature"))
    highest_first = [cells_of(row) for row in rows.all()]
    assert float(highest_first[0][keyword_at]) > float(highest_first[1][keyword_at]), "the sweep found no winner"
    best_temperature = highest_first[0][temperature_at]
    assert best_temperature in {"0.2", "0.8"}
    board.get_by_role("columnheader", name="keyword").get_by_role("link").click()
    expect(board.get_by_role("columnheader", name="keyword")).to_have_attribute("aria-sort", "ascending")
    expect(board).to_contain_text("sorted by keyword, lowest first")
    lowest_first = [cells_of(row) for row in rows.all()]
    assert [row[keyword_at] for row in lowest_first] == [row[keyword_at] for row in highest_first[::-1]]
    assert lowest_first[-1][temperature_at] == best_temperature
    best = rows.filter(has=page.get_by_role("cell", name=best_temperature, exact=True))

    # Open the best run: the prompt each stage sent and the response it got.
    best.get_by_role("link", name=re.compile(r"^Details of run")).click()
    best.get_by_role("link", name="Open the run's detail").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Run [0-9a-f]{8}$"))).to_be_visible()
    parcel = page.get_by_role("article").filter(has=page.get_by_role("heading", name="Item parcel"))
    calls = parcel.locator(".stage-call")
    expect(calls).to_have_count(2)
    for call in calls.all():
        call.get_by_text("Prompt sent").click()
    expect(calls.nth(0)).to_contain_text("Customer: My parcel has not arrived after two weeks.")
    draft_reply = calls.nth(0).locator(".response pre").inner_text()
    assert draft_reply.strip()
    expect(calls.nth(1)).to_contain_text(f"Polish this draft: {draft_reply}")
    expect(calls.nth(1).locator(".response pre")).not_to_be_empty()
    expect(page.locator("#run-summary")).to_contain_text(f"stages.1.params.temperature = {best_temperature}")

    # Rate two outputs in the queue: one with the keyboard, one with the mouse.
    page.get_by_role("link", name="Rating queue").click()
    queue = page.locator("#rating-queue")
    expect(queue).to_contain_text("0 of 6 rated")
    page.keyboard.press("4")
    expect(queue.get_by_label("4 stars")).to_be_checked()
    page.keyboard.press("Enter")
    expect(queue).to_contain_text("1 of 6 rated")
    queue.locator("label").filter(has_text="Up").click()  # the radio itself is hidden behind its label
    expect(queue.get_by_label("Up")).to_be_checked()
    queue.get_by_label("Comment").fill("Clear and kind.")
    queue.get_by_role("button", name="Save rating").click()
    expect(queue).to_contain_text("2 of 6 rated")

    # Compare the two runs, ticked on the leaderboard.
    page.get_by_role("link", name="Journey experiment").click()
    for rank in (1, 2):
        page.get_by_label(f"Compare run #{rank}").check()
    page.get_by_role("button", name="Compare selected (2)").click()
    expect(page.get_by_role("heading", name="Compare two runs")).to_be_visible()
    differ = page.locator("#compare-params")
    temperatures = differ.get_by_role("row").filter(has_text="stages.1.params.temperature")
    expect(temperatures).to_have_count(1)
    assert sorted(cells_of(temperatures)) == ["0.2", "0.8"]
    outputs = page.locator("#compare-items")
    expect(outputs.get_by_role("heading", name=re.compile(r"^Item parcel"))).to_be_visible()
    expect(outputs.locator("ins").first).to_be_visible()
    expect(outputs).to_contain_text("[added: ")

    # Fork the best run into a new experiment: its live view, nothing run yet.
    page.go_back()
    expect(rows.first.get_by_role("cell", name=best_temperature, exact=True)).to_be_visible()  # best first again
    page.get_by_role("link", name="Fork run #1").click()
    expect(page.get_by_role("heading", name="Fork this run")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"stages.1.params.temperature = {best_temperature}")
    page.get_by_label("New experiment's name").fill("Journey fork")
    page.get_by_role("button", name="Create the fork").click()
    expect(page.get_by_role("heading", name="Journey fork", level=1)).to_be_visible()
    expect(page.locator("#experiment-progress")).to_contain_text("No sweep has run yet.")

    # Download the best configuration as .env from the original experiment.
    page.get_by_role("link", name="Journey project").click()
    page.get_by_role("link", name="Journey experiment", exact=True).click()
    with page.expect_download() as download:
        page.locator("#experiment-exports").get_by_role("link", name=".env").click()
    env = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.endswith(".env")
    assert "DRAFT_LLM_MODEL=demo-pro" in env and "POLISH_LLM_MODEL=demo-pro" in env
    assert f"POLISH_LLM_TEMPERATURE={best_temperature}" in env
    assert "Journey experiment" in env

"""The builder's sample table in a browser: import a CSV with a preview, then edit rows and columns in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, api_client, create_api_key, log_in

pytestmark = pytest.mark.browser

CSV = "id,input,reference,tone\na,Where is my parcel?,tracking,calm\nb,Cancel my order,refund,firm\n"


def test_import_a_csv_then_edit_the_table_without_a_reload(page: Page, first_boot: FirstBoot, tmp_path):
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="samples test")
    with api_client(first_boot.stack, key) as api:
        project = api.post("/projects", json={"name": "Samples project"}).raise_for_status().json()
    page.goto(f"/projects/{project['id']}/experiments/new/")
    page.evaluate("window.notReloaded = true")
    samples = page.locator("#experiment-samples")

    csv_file = tmp_path / "mail.csv"
    csv_file.write_text(CSV)
    samples.get_by_label("JSON, JSONL, CSV").set_input_files(csv_file)
    samples.get_by_role("button", name="Preview the import").click()
    expect(samples).to_contain_text("Preview of mail.csv: 2 items")
    samples.get_by_role("button", name="Replace the table").click()
    expect(samples.get_by_label("Row 2 input")).to_have_value("Cancel my order")
    expect(samples.get_by_label("Row 1 tone")).to_have_value("calm")

    samples.get_by_label("New column").fill("audience")
    samples.get_by_role("button", name="Add the column").click()
    samples.get_by_label("Row 2 audience").fill("shoppers")
    samples.get_by_role("button", name="Remove row 1").click()
    expect(samples.get_by_label("Row 1 input")).to_have_value("Cancel my order")
    expect(samples.get_by_label("Row 1 audience")).to_have_value("shoppers")
    expect(samples.get_by_label("Row 2 input")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True

    page.set_viewport_size({"width": 390, "height": 800})  # a phone: the table scrolls inside its card
    assert samples.evaluate("el => el.getBoundingClientRect().right <= 390 && el.scrollWidth <= el.clientWidth")
    assert samples.locator(".table-wrap").first.evaluate("el => el.scrollWidth > el.clientWidth")

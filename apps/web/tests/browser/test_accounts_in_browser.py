"""A new instance in a real browser: first-boot setup, logging in and out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from apps.web.tests.browser.journeys import FirstBoot, log_in, log_out

pytestmark = pytest.mark.browser


def test_first_boot_setup_signs_the_new_admin_in_on_the_dashboard_with_their_name(first_boot: FirstBoot):
    assert first_boot.landed_on == f"{first_boot.stack.base_url}/"
    assert first_boot.username in first_boot.banner
    assert first_boot.problems == []


def test_the_setup_link_works_once_and_then_leads_to_the_login_page(page: Page, first_boot: FirstBoot):
    page.goto(first_boot.stack.setup_link())
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_logging_in_shows_the_dashboard_with_my_name_and_logging_out_signs_me_out(page: Page, first_boot):
    log_in(page, username=first_boot.username, password=first_boot.password)
    expect(page).to_have_url(f"{first_boot.stack.base_url}/")
    expect(page.get_by_role("banner")).to_contain_text(first_boot.username)
    log_out(page)
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_a_wrong_password_shows_an_error_and_keeps_me_signed_out(page: Page, first_boot: FirstBoot):
    log_in(page, username=first_boot.username, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password.")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

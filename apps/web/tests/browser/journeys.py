"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx
from playwright.sync_api import Locator, Page, expect

from apps.web.tests.browser.recorder import PageRecorder
from apps.web.tests.browser.stack import LiveStack

ADMIN = "admin"
PASSWORD = "a long browser passphrase"


@dataclass(frozen=True)
class FirstBoot:
    """The instance after first-boot setup, and what the browser showed on the way."""

    stack: LiveStack
    username: str
    password: str
    landed_on: str
    banner: str
    problems: list[str]


def first_boot_setup(page: Page, stack: LiveStack, recorder: PageRecorder, *, username: str = ADMIN,
                     password: str = PASSWORD) -> FirstBoot:
    """Open the printed setup link and create the admin account; setup signs the admin in."""
    page.goto(stack.setup_link())
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Create admin account").click()
    return FirstBoot(stack=stack, username=username, password=password, landed_on=page.url,
                     banner=page.get_by_role("banner").inner_text(), problems=recorder.problems)


def log_in(page: Page, *, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def create_api_key(page: Page, *, name: str) -> str:
    """Create a key on the API keys page and read it off the page (it is shown once)."""
    page.goto("/keys/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create key").click()
    return page.get_by_label("New API key").input_value().strip()


def api_client(stack: LiveStack, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"{stack.base_url}/api/v1", headers={"Authorization": f"Bearer {key}"},
                        timeout=10)


def wait_for_sweep(client: httpx.Client, stack: LiveStack, sweep_id: str, *, timeout_s: float = 60.0) -> dict:
    """Poll the REST API until the worker process has finished the sweep."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stack.assert_running()
        sweep = client.get(f"/sweeps/{sweep_id}").raise_for_status().json()
        if sweep["status"] in {"completed", "stopped", "failed"}:
            return sweep
        time.sleep(0.1)  # polling another process's work with a deadline
    raise AssertionError(f"the worker did not finish sweep {sweep_id} in time:\n{stack.log_tail()}")


def guest_access_set(admin_api: httpx.Client, *, allowed: bool) -> None:
    """Switch guest access with the admin's key (the admin settings API the settings page also uses)."""
    settings = admin_api.patch("/admin/settings", json={"allow_guest_access": allowed}).raise_for_status()
    assert settings.json()["allow_guest_access"] is allowed


def user_create_in_admin(page: Page, *, username: str, password: str) -> None:
    """A signed-in admin adds an account on the Django admin's "Add user" page."""
    page.goto("/admin/accounts/user/add/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.locator("input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text(username)


SOCKET_OPENED = "document.addEventListener('htmx:wsOpen', () => { window.liveSocketOpen = true; });"


def on_socket_open(page: Page) -> None:
    """From the next page load on, note when htmx's WebSocket connects (see `wait_for_socket`)."""
    page.add_init_script(SOCKET_OPENED)


def wait_for_socket(page: Page) -> None:
    """Wait until the live page's WebSocket is open: pushes sent from now on reach it."""
    page.wait_for_function("window.liveSocketOpen === true")


def stat(section: Locator, term: str) -> Locator:
    """The value (<dd>) a stats list shows for `term` (<dt>)."""
    return section.locator("div").filter(has=section.page.get_by_role("term").filter(
        has_text=re.compile(rf"^{re.escape(term)}$"))).get_by_role("definition")


def cells_of(row: Locator) -> list[str]:
    """A table row's cells as the text a person reads."""
    return [text.strip() for text in row.get_by_role("cell").all_inner_texts()]

"""Browser tests: Debian's chromium through pytest-playwright, against a live stack with a real worker.

Playwright's sync API marks an asyncio loop as running in this thread for as long as it is
started, which would break every later ORM and asyncio test in the run: so Playwright, the
browser and the live stack live for this package only (pytest-playwright makes them per session).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Playwright, expect, sync_playwright

from apps.web.tests.browser.chromium import CHROMIUM_ARGS, chromium_path
from apps.web.tests.browser.journeys import FirstBoot, first_boot_setup
from apps.web.tests.browser.recorder import PageRecorder
from apps.web.tests.browser.stack import LiveStack

# Actions and assertions alike wait this long: a loaded CI machine renders slowly, and a failure still ends soon.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def start_stack() -> Iterator[LiveStack]:
    """A fresh instance in the run's mode (SQLite, or DATABASE_URL and REDIS_URL from the environment)."""
    with tempfile.TemporaryDirectory(prefix="pl-browser-") as data_dir:
        stack = LiveStack(data_dir=Path(data_dir), database_url=os.environ.get("DATABASE_URL"),
                          redis_url=os.environ.get("REDIS_URL"))
        try:
            stack.start()
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="package")
def live_stack() -> Iterator[LiveStack]:
    """One live instance shared by the package's tests; first-boot setup is not done yet."""
    yield from start_stack()


@pytest.fixture(scope="package")
def first_boot(live_stack: LiveStack, browser: Browser) -> FirstBoot:
    """The printed setup link followed in the browser once: the admin exists; what the browser saw."""
    context = browser.new_context(base_url=live_stack.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    recorder = PageRecorder(context, origin=live_stack.base_url)
    try:
        return first_boot_setup(context.new_page(), live_stack, recorder)
    finally:
        context.close()


# pytest-playwright's fixtures, re-scoped to this package (see the module docstring) -----------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright) -> BrowserType:
    return playwright.chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args: dict, browser_type: BrowserType):
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="package")
def browser(launch_browser) -> Iterator[Browser]:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(live_stack: LiveStack) -> dict:
    return {"base_url": live_stack.base_url, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def context(new_context) -> BrowserContext:
    context = new_context()
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def recorder(context: BrowserContext, live_stack: LiveStack) -> PageRecorder:
    """Fails the test (see pytest_runtest_call) on a console error or a request off the live server."""
    return PageRecorder(context, origin=live_stack.base_url)


@pytest.fixture
def page(context: BrowserContext, recorder: PageRecorder) -> Page:
    return context.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    recorder = getattr(item, "funcargs", {}).get("recorder")
    if recorder is not None and recorder.problems:
        pytest.fail("The pages misbehaved:\n" + "\n".join(recorder.problems), pytrace=False)
    return result

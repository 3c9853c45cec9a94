"""The harness the browser tests rely on: the browser is Debian's chromium, and the recorder notices
what it claims to."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import Browser, BrowserContext

from apps.web.tests.browser.chromium import chromium_path
from apps.web.tests.browser.recorder import PageRecorder

pytestmark = pytest.mark.browser


def test_the_browser_is_debians_chromium(browser: Browser):
    version = subprocess.run([chromium_path(), "--version"], capture_output=True, text=True, check=True).stdout
    assert browser.version in version and "Debian" in version


def test_a_console_error_an_uncaught_error_and_a_foreign_request_are_all_recorded(context: BrowserContext,
                                                                                  first_boot):
    recorder = PageRecorder(context, origin=first_boot.stack.base_url)
    context.route("http://cdn.example.com/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/login/")
    with page.expect_console_message():
        page.evaluate("console.error('boom')")
    with page.expect_event("pageerror"):
        page.evaluate("setTimeout(() => { throw new Error('uncaught') }, 0)")
    with page.expect_event("requestfailed"):
        page.evaluate("fetch('http://cdn.example.com/lib.js').catch(() => {})")
    problems = "\n".join(recorder.problems)
    assert "console error: boom" in problems
    assert "uncaught page error: uncaught" in problems
    assert "request to a foreign origin: http://cdn.example.com/lib.js" in problems


def test_a_stylesheet_that_does_not_load_is_a_problem(context: BrowserContext, first_boot):
    recorder = PageRecorder(context, origin=first_boot.stack.base_url)
    page = context.new_page()
    page.goto("/login/")
    assert recorder.problems == []
    with page.expect_console_message():
        page.evaluate("""() => new Promise(resolve => {
            const link = Object.assign(document.createElement('link'),
                                       {rel: 'stylesheet', href: '/static/no-such.css', onerror: resolve});
            document.head.appendChild(link);
        })""")
    assert [problem for problem in recorder.problems if "no-such.css" in problem]

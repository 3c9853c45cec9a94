"""Who may do what, in a real browser: a guest reads every page (and watches a sweep live) with no
write controls and every write refused; another user gets the 404 page for the admin's objects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from apps.web.tests.browser.conftest import TIMEOUT_MS
from apps.web.tests.browser.journeys import (
    FirstBoot,
    api_client,
    create_api_key,
    guest_access_set,
    log_in,
    on_socket_open,
    user_create_in_admin,
    wait_for_socket,
    wait_for_sweep,
)
from apps.web.tests.browser.test_sweep_in_browser import experiment_body

pytestmark = pytest.mark.browser

SECOND_USER, SECOND_PASSWORD = "outsider", "another long passphrase"
PUSH_TIMEOUT_MS = 15_000  # the worker runs the whole (small) sweep before the last push
# Labels of controls that change something; a guest's page has none of them (as buttons or links).
WRITE_WORDS = re.compile(r"\b(start|pause|resume|stop|approve|reject|edit|delete|rate|rating|fork|redirect|new|"
                         r"create|save|test)\b", re.IGNORECASE)
# Pages that only a signed-in user may use: a guest's page links to none of them.
WRITE_PATHS = re.compile(r"/(new|edit|delete|rate|fork|redirect|save-best|sweep|pause|resume|stop|approve|reject)/"
                         r"|^/(settings|keys|endpoints|webhooks|admin)/")
CONTROLS = """() => {
  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
  const shown = (el) => !el.closest('[hidden]') && !el.disabled;
  return {
    buttons: [...document.querySelectorAll('button, input[type=submit], input[type=button]')].filter(shown).map(label),
    links: [...document.querySelectorAll('a[href]')].map((a) => [label(a), new URL(a.href).pathname]),
    posts: [...document.querySelectorAll('form')].filter((f) => f.method === 'post')
             .map((f) => new URL(f.action).pathname),
  };
}"""


@dataclass(frozen=True)
class Site:
    """The admin's objects, made over the REST API with a key from the API keys page."""

    api: httpx.Client
    project: str
    finished: str  # an experiment whose sweep has finished: 2 ranked runs
    runs: list[str]
    watched: str  # an experiment with no sweep yet
    sweep: str


@pytest.fixture(scope="module")
def site(first_boot: FirstBoot, browser: Browser, fake_llm_session) -> Iterator[Site]:
    context = browser.new_context(base_url=first_boot.stack.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, username=first_boot.username, password=first_boot.password)
    key = create_api_key(page, name="access test")
    # The Django admin asks for /favicon.ico (a 404 console error): so not on a recorded page.
    user_create_in_admin(page, username=SECOND_USER, password=SECOND_PASSWORD)
    context.close()
    with api_client(first_boot.stack, key) as api:
        endpoint = api.post("/endpoints", json={"label": "Fake access", "base_url": fake_llm_session.base_url})
        project = api.post("/projects", json={"name": "Guest-readable project"}).raise_for_status().json()["id"]
        body = experiment_body(project, endpoint.raise_for_status().json()["id"])
        finished = api.post("/experiments", json={
            **body, "name": "Read by guests",
            "sample_data": [{"id": f"i{n}", "input": f"guest document {n}", "reference": "document"}
                            for n in range(2)]}).raise_for_status().json()["id"]
        watched = api.post("/experiments", json={
            **body, "name": "Watched by a guest",
            "sample_data": [{"id": "i0", "input": "watched document", "reference": "document"}]})
        started = api.post(f"/experiments/{finished}/sweep", json={}).raise_for_status().json()
        assert wait_for_sweep(api, first_boot.stack, started["sweep"]["id"])["status"] == "completed"
        runs = [run["id"] for run in api.get(f"/experiments/{finished}/runs").raise_for_status().json()["results"]]
        assert len(runs) == 2
        yield Site(api=api, project=project, finished=finished, runs=runs,
                   watched=watched.raise_for_status().json()["id"], sweep=started["sweep"]["id"])


@pytest.fixture
def guest_access(site: Site) -> Iterator[None]:
    """Guest access on for one test; off again afterwards (the package's other tests expect the default)."""
    guest_access_set(site.api, allowed=True)
    try:
        yield
    finally:
        guest_access_set(site.api, allowed=False)


def assert_read_only(page: Page) -> None:
    """No control on the page writes: no such button, no link to a write page, no POST form but logging in."""
    expect(page.get_by_role("banner")).to_contain_text("Guest")
    controls = page.evaluate(CONTROLS)
    where = page.url
    assert [b for b in controls["buttons"] if WRITE_WORDS.search(b)] == [], where
    writing = [(text, path) for text, path in controls["links"] if WRITE_PATHS.search(path) or WRITE_WORDS.search(text)]
    assert writing == [], where
    assert [action for action in controls["posts"] if action != "/login/"] == [], where


def test_a_guest_watches_a_sweep_live_and_reads_every_page_without_write_controls(
        page: Page, site: Site, guest_access):
    on_socket_open(page)
    page.goto(f"/experiments/{site.watched}/")
    wait_for_socket(page)  # the read-only socket was accepted for the guest
    page.evaluate("window.notReloaded = true")
    assert_read_only(page)
    assert site.api.post(f"/experiments/{site.watched}/sweep", json={}).status_code == 202
    expect(page.locator("#experiment-progress-count")).to_have_text("2 of 2 runs", timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#leaderboard-rows [role=row]")).to_have_count(2, timeout=PUSH_TIMEOUT_MS)
    expect(page.locator("#experiment-chart circle.dot").first).to_be_visible(timeout=PUSH_TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True
    assert_read_only(page)  # pushed sections are rendered for the guest: no approve or steering controls

    pages = {
        "/": page.get_by_role("heading", name="Dashboard"),
        f"/projects/{site.project}/": page.get_by_role("heading", name="Guest-readable project"),
        f"/experiments/{site.finished}/": page.locator("#leaderboard-rows [role=row]").nth(1),
        f"/runs/{site.runs[0]}/": page.get_by_role("heading", name="Outputs by item"),
        f"/compare/?a={site.runs[0]}&b={site.runs[1]}": page.get_by_role("heading", name="Outputs by item"),
    }
    for path, landmark in pages.items():
        response = page.goto(path)
        assert response.status == 200, path
        expect(landmark).to_be_visible()
        assert_read_only(page)
    page.goto(f"/experiments/{site.finished}/")
    expect(page.locator("#experiment-chart svg").first).to_be_visible()
    expect(page.locator("#experiment-timeline")).to_contain_text("Every run of a sweep has finished.")


def test_every_write_a_guest_sends_with_the_pages_csrf_token_is_refused_and_changes_nothing(
        page: Page, site: Site, guest_access):
    api = site.api
    page.goto(f"/experiments/{site.finished}/")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    before = {"sweeps": api.get(f"/experiments/{site.finished}/sweeps").json(),
              "runs": [api.get(f"/runs/{run}").json() for run in site.runs],
              "projects": api.get("/projects").json()}
    run = site.runs[0]
    writes = {
        f"/experiments/{site.finished}/sweep/": {"type": "grid"},
        f"/experiments/{site.finished}/pause/": {},
        f"/experiments/{site.finished}/stop/": {},
        f"/runs/{run}/approve/": {},
        f"/runs/{run}/rate/": {"item_id": "i0", "repeat": "0", "stars": "5", "comment": "guest"},
        f"/experiments/{site.finished}/rate/": {"run": run, "item_id": "i1", "repeat": "0", "stars": "1"},
        "/projects/new/": {"name": "Made by a guest"},
        f"/projects/{site.project}/delete/": {},
        f"/projects/{site.project}/notes/": {"notes": "written by a guest"},
    }
    for path, form in writes.items():
        response = page.request.post(path, form=form, headers={"X-CSRFToken": token}, max_redirects=0)
        refused = response.status in {403, 404, 405} or (
            response.status == 302 and response.headers["location"].startswith("/login/"))
        assert refused, f"{path}: {response.status} {response.headers.get('location', '')}"

    after = {"sweeps": api.get(f"/experiments/{site.finished}/sweeps").json(),
             "runs": [api.get(f"/runs/{run}").json() for run in site.runs],
             "projects": api.get("/projects").json()}
    assert after == before
    assert "Made by a guest" not in str(after["projects"])


def test_another_user_opening_the_admins_experiment_run_and_edit_pages_gets_the_404_page(
        page: Page, site: Site):
    log_in(page, username=SECOND_USER, password=SECOND_PASSWORD)  # created by the admin in `site`
    expect(page.get_by_role("banner")).to_contain_text(SECOND_USER)

    for path in (f"/experiments/{site.finished}/", f"/runs/{site.runs[0]}/", f"/experiments/{site.finished}/edit/",
                 f"/projects/{site.project}/", f"/compare/?a={site.runs[0]}&b={site.runs[1]}"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(page.get_by_role("link", name="Go to the dashboard")).to_have_attribute("href", "/")
        expect(page.get_by_role("banner")).to_contain_text(SECOND_USER)  # in the layout, signed in
        for secret in ("Read by guests", "Guest-readable project", "guest document"):
            assert secret not in page.content(), path

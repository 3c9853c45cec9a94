"""No CSRF token ever goes into a URL: every GET form of the live view (in any state) carries none."""

from html.parser import HTMLParser

import pytest

from apps.runs.services import sweeps
from apps.web.tests.builders import htmx
from apps.web.tests.live_fixtures import endpoint_fixture, runnable_fixture, started_fixture, url  # noqa: F401

pytestmark = pytest.mark.django_db
TOKEN = "csrfmiddlewaretoken"


class Forms(HTMLParser):
    """Each form with its method, whether it holds a token, its GET submit buttons and whether htmx GETs it."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.open.append({"method": (attrs.get("method") or "get").lower(), "token": False, "get_buttons": 0,
                              "hx_get": "hx-get" in attrs, "hx_params": attrs.get("hx-params", "")})
            self.forms.append(self.open[-1])
        elif self.open and tag == "input" and attrs.get("name") == TOKEN:
            self.open[-1]["token"] = True
        elif self.open and tag == "button" and (attrs.get("formmethod") or "").lower() == "get":
            self.open[-1]["get_buttons"] += 1

    def handle_endtag(self, tag):
        if tag == "form" and self.open:
            self.open.pop()


def token_leaks(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return [form for form in parser.forms if form["token"] and (
        form["method"] == "get" or form["get_buttons"]
        or (form["hx_get"] and form["hx_params"] != f"not {TOKEN}"))]


def live_view_states(client, owner, runnable):
    """The live view's pages and partials, before, during, paused and after a sweep, and their forms' answers."""
    page = url("experiment", runnable)
    yield client.get(page)
    yield client.get(url("experiment_estimate", runnable) + "?type=grid")
    yield client.post(url("experiment_estimate", runnable), {"type": "grid"})
    yield client.post(url("sweep_start", runnable), {"type": "random"})  # refused: n missing
    sweep, _ = sweeps.sweep_start(user=owner, experiment=runnable, kind="grid")
    yield client.get(page)
    yield client.get(url("experiment_redirect", runnable))
    yield htmx(client, url("experiment_pause", runnable), method="post")
    yield client.get(page)
    yield htmx(client, url("experiment_stop", runnable), method="post")
    yield client.get(page)
    yield htmx(client, page, target="experiment-start")


def test_no_get_form_in_any_state_of_the_live_view_carries_a_csrf_token(client, owner, runnable):
    client.force_login(owner)
    forms = 0
    for response in live_view_states(client, owner, runnable):
        html = response.content.decode()
        assert token_leaks(html) == [], response.request["PATH_INFO"]
        forms += html.count("<form")
    assert forms > 20  # the parser saw the start, estimate, steering, timeline and leaderboard forms


def test_the_start_form_posts_with_its_token_and_estimates_without_javascript_by_post(client, owner, runnable):
    client.force_login(owner)
    parser = Forms()
    parser.feed(client.get(url("experiment", runnable)).content.decode())
    start = next(form for form in parser.forms if form["hx_get"])
    assert start["method"] == "post" and start["token"] and start["get_buttons"] == 0
    html = client.post(url("experiment_estimate", runnable), {"type": "random", "n": "2", "seed": "1"})
    html = html.content.decode()
    assert "<html" in html and "<dt>Runs</dt><dd>2</dd>" in html and "Start 2 runs" in html


def test_the_estimate_post_without_a_token_is_refused(owner, runnable):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url("experiment_estimate", runnable), {"type": "grid"}).status_code == 403


def test_the_redirect_page_has_no_token_in_a_get_form_either(client, owner, started):
    client.force_login(owner)
    for response in (client.get(url("experiment_redirect", started.experiment)),
                     client.post(url("experiment_redirect", started.experiment), {"parameter_space": "[{"})):
        assert token_leaks(response.content.decode()) == []

"""Every page and partial of the web app, for its owner, another user, a guest and an anonymous visitor.

The pages come from page_table.ROUTES, which must name every pattern of the `web` namespace (the first test):
a new page without a row fails it.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.urls import Resolver404, get_resolver, resolve, reverse

from apps.runs.models import Run, Sweep
from apps.web.tests.html_tree import Element, parse
from apps.web.tests.matrix_fixtures import world_fixture  # noqa: F401 (the module's `world`)
from apps.web.tests.page_table import (
    ACCOUNT_PAGES,
    ADMIN,
    GETS,
    GUEST,
    HX_WRITES,
    PARTIALS,
    POSTS,
    ROUTES,
    WRITE_WORDS,
    owner_of,
    url,
)

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[str]]:
    """Every row of the project's own tables, as text (sessions and login attempts left out)."""
    labels = {"accounts", "core", "endpoints", "projects", "experiments", "activity", "runs", "exports",
              "webhooks", "deployments", "instance"}
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label in labels:
            rows[model._meta.label] = sorted(repr(sorted(row.items())) for row in model.objects.values())
    return rows


def diff(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def goes_to_login(response) -> bool:
    return response.status_code == 302 and urlparse(response["Location"]).path == reverse("accounts:login")


def write_controls(tree: Element) -> list[str]:
    """What lets a reader change something: post forms (other than logging out), hx writes, write buttons,
    and links to pages a guest may not open."""
    found = []
    for form in tree.iter("form"):
        action = form.get("action") or ""
        if form.get("method", "").lower() == "post" and _name(action) not in ACCOUNT_PAGES:
            found.append(f"form posting to {action or 'this page'}")
    for element in tree.iter():
        found += [f"{element!r}" for attr in HX_WRITES if element.get(attr) is not None]
        if element.tag == "button" or (element.tag == "input" and element.get("type") == "submit"):
            label = element.text() or element.get("value", "") or element.get("aria-label", "")
            if WRITE_WORDS.match(label.strip()):
                found.append(f"button “{label}”")
        if element.tag == "a" and element.get("href", "").startswith("/"):
            name = _name(element.get("href"))
            if name and name.startswith("web:") and ROUTES[name[4:]].access != GUEST:
                found.append(f"link to {name} “{element.text()}”")
    return found


def _name(href: str) -> str | None:
    try:
        return resolve(urlparse(href).path).view_name
    except Resolver404:
        return None


def roots(html: str) -> list[Element]:
    return parse(html).elements()


# The table

def test_the_table_names_every_pattern_of_the_web_app():
    web = {name for name in get_resolver().namespace_dict["web"][1].reverse_dict if isinstance(name, str)}
    assert "dashboard" in web and set(ROUTES) == web


# GET, for each kind of visitor

@pytest.mark.parametrize("name", GETS)
def test_the_owner_opens_the_page(client, world, name):
    client.force_login(owner_of(world, name))
    response = client.get(url(world, name))
    route = ROUTES[name]
    assert response.status_code == route.get_status
    html = response.content.decode() if response.status_code == 200 else ""
    if route.page:
        assert "<html" in html and "</html>" in html
    if route.fragment:
        assert "<html" not in html and roots(html)[0].get("id") == route.fragment


@pytest.mark.parametrize("name", GETS)
def test_another_user_gets_a_404_page_for_the_owners_object_and_never_sees_their_data(client, world, name):
    client.force_login(world.other)
    response = client.get(url(world, name))
    route = ROUTES[name]
    html = response.content.decode()
    if route.owned:
        assert response.status_code == 404 and "<html" in html
    elif route.access == ADMIN:
        assert response.status_code == 403
    else:
        assert response.status_code == route.get_status
    assert world.project.name not in html and world.finished.name not in html


@pytest.mark.parametrize("name", GETS)
def test_a_guest_reads_the_page_without_write_controls_or_is_asked_to_log_in(client, world, guest_mode, name):
    response = client.get(url(world, name))
    route = ROUTES[name]
    if route.access != GUEST:
        assert goes_to_login(response)
        return
    assert response.status_code == route.get_status
    if route.page:
        assert write_controls(parse(response.content.decode())) == []


def test_a_guest_watching_a_queued_sweep_sees_its_progress_but_no_steering(client, world, guest_mode):
    html = client.get(reverse("web:experiment", kwargs={"experiment_id": world.active.pk})).content.decode()
    assert "0 of 3 runs" in html and write_controls(parse(html)) == []
    client.force_login(world.owner)
    owner_html = client.get(reverse("web:experiment", kwargs={"experiment_id": world.active.pk})).content.decode()
    assert {"button “Pause”", "button “Stop”"} <= set(write_controls(parse(owner_html)))


@pytest.mark.parametrize("name", ["projects", "project_detail", "experiment", "experiment_leaderboard", "run"])
def test_the_owner_sees_the_write_controls_a_guest_does_not(client, world, name):
    client.force_login(world.owner)
    assert write_controls(parse(client.get(url(world, name)).content.decode()))


@pytest.mark.parametrize("name", GETS)
def test_without_guest_access_an_anonymous_visitor_is_asked_to_log_in(client, world, name):
    assert goes_to_login(client.get(url(world, name)))


# htmx: the partial only

@pytest.mark.parametrize(("name", "target"), PARTIALS)
def test_htmx_gets_only_the_partial_it_targets(client, world, name, target):
    partial = next(p for p in ROUTES[name].partials if p.target == target)
    client.force_login(owner_of(world, name))
    address = url(world, name, partial.query(world) if partial.query else None)
    response = client.get(address, headers={"HX-Request": "true", "HX-Target": target})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "<body" not in html
    elements = roots(html)
    assert [e.get("id") for e in elements] == [target], f"{name} answered {target} with {elements}"


@pytest.mark.parametrize(("name", "target"), [(n, t) for n, t in PARTIALS if ROUTES[n].access == GUEST])
def test_a_guests_partial_has_no_write_controls(client, world, guest_mode, name, target):
    partial = next(p for p in ROUTES[name].partials if p.target == target)
    address = url(world, name, partial.query(world) if partial.query else None)
    response = client.get(address, headers={"HX-Request": "true", "HX-Target": target})
    assert response.status_code == 200
    assert write_controls(parse(response.content.decode())) == []


# POST: refused, and nothing changes

def owner_post(client, world, name) -> dict:
    """The owner's POST data, read while signed in as the owner (the client is signed out again)."""
    client.force_login(owner_of(world, name))
    data = ROUTES[name].post(world, client)
    client.logout()
    return data


def do_post(client, world, name, data, *, hx=False):
    headers = {"HX-Request": "true"} if hx else {}
    return client.post(reverse(f"web:{name}", kwargs=ROUTES[name].kwargs(world)), data, headers=headers)


@pytest.mark.parametrize("hx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("name", POSTS)
def test_a_guest_posting_is_asked_to_log_in_and_nothing_changes(client, world, guest_mode, name, hx):
    data = owner_post(client, world, name)
    if ROUTES[name].prepare:
        ROUTES[name].prepare(world)
    before = snapshot()
    response = do_post(client, world, name, data, hx=hx)
    assert goes_to_login(response)
    assert diff(before, snapshot()) == []


@pytest.mark.parametrize("name", POSTS)
def test_an_anonymous_visitor_posting_is_asked_to_log_in_and_nothing_changes(client, world, name):
    data = owner_post(client, world, name)
    before = snapshot()
    assert goes_to_login(do_post(client, world, name, data))
    assert diff(before, snapshot()) == []


@pytest.mark.parametrize("name", [n for n in POSTS if ROUTES[n].owned])
def test_another_user_posting_to_the_owners_object_gets_a_404_and_nothing_changes(client, world, name):
    data = owner_post(client, world, name)
    if ROUTES[name].prepare:
        ROUTES[name].prepare(world)
    client.force_login(world.other)
    before = snapshot()
    response = do_post(client, world, name, data)
    assert response.status_code == 404
    assert diff(before, snapshot()) == []


@pytest.mark.parametrize("name", [n for n in POSTS if ROUTES[n].writes])
def test_the_same_post_by_the_owner_does_change_something(client, world, name):
    """The control of the refusals above: their data would have written."""
    data = owner_post(client, world, name)
    if ROUTES[name].prepare:
        ROUTES[name].prepare(world)
    client.force_login(owner_of(world, name))
    before = snapshot()
    response = do_post(client, world, name, data)
    assert response.status_code in (200, 201, 302), response.content.decode()[:2000]
    assert diff(before, snapshot()) != []


@pytest.mark.parametrize("name", [n for n in POSTS if ROUTES[n].fragment])
def test_an_htmx_only_endpoint_answers_its_fragment(client, world, name):
    data = owner_post(client, world, name)
    client.force_login(world.owner)
    response = do_post(client, world, name, data, hx=True)
    assert response.status_code == 200
    assert [e.get("id") for e in roots(response.content.decode())][:1] == [ROUTES[name].fragment]


def test_the_world_has_what_the_pages_show(world):
    assert Sweep.objects.get(experiment=world.finished).status == Sweep.Status.COMPLETED
    assert Run.objects.filter(experiment=world.active, status=Run.Status.PENDING).count() == 3

"""A static accessibility audit of every page, as its owner and as a guest reads it.

Each page of page_table.ROUTES (and a few other states of them) must have: a name for every control, text on
every button and link, unique ids, images and SVG either named or hidden, one <h1>, <html lang> and a viewport.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from apps.web.tests.html_tree import Element, parse
from apps.web.tests.matrix_fixtures import world_fixture  # noqa: F401 (the module's `world`)
from apps.web.tests.page_table import GETS, GUEST, ROUTES, owner_of, url

pytestmark = pytest.mark.django_db

UNNAMED_INPUTS = ("hidden", "submit", "button", "reset", "image")
# Other states of the pages than their table row's: steering controls, the compare picker.
STATES = {"live view of a queued sweep": ("experiment", lambda w: {"experiment_id": w.active.pk}, None),
          "compare picker": ("compare", None, lambda w: {"experiment": w.finished.pk})}
PAGES = [(name, None) for name in GETS if ROUTES[name].page] + [(name, state) for state, (name, _, _) in
                                                                   STATES.items()]


def page_url(world, name: str, state: str | None) -> str:
    if state is None:
        return url(world, name)
    _, kwargs, query = STATES[state]
    path = reverse(f"web:{name}", kwargs=kwargs(world) if kwargs else ROUTES[name].kwargs(world))
    return f"{path}?{urlencode(query(world))}" if query else path


def problems(html: str) -> list[str]:
    tree = parse(html)
    ids = [element.get("id") for element in tree.iter() if element.get("id")]
    known = set(ids)
    labelled = {label.get("for") for label in tree.iter("label") if label.get("for")}
    found = [f"id “{i}” used {ids.count(i)} times" for i in sorted(known) if ids.count(i) > 1]
    for field in tree.iter("input", "select", "textarea"):
        if field.tag == "input" and field.get("type", "text").lower() in UNNAMED_INPUTS:
            continue
        if not _field_named(field, labelled, known):
            found.append(f"control without a name: {field!r}")
    for control in tree.iter("button", "a"):
        if (control.tag == "a" and control.get("href") is None) or _hidden(control):
            continue
        if not (_visible_text(control) or control.get("aria-label", "").strip()
                or _refers(control.get("aria-labelledby"), known)):
            found.append(f"{control.tag} without text: {control!r}")
    for image in tree.iter("img", "svg"):
        if image.tag == "svg" and any(a.tag == "svg" for a in image.ancestors()):
            continue
        hidden = image.get("aria-hidden") == "true"
        named = (image.get("aria-label", "").strip() or _refers(image.get("aria-labelledby"), known)) and (
            image.get("role") == "img" or image.tag == "img")
        if not (hidden or named or (image.tag == "img" and image.get("alt") is not None)):
            found.append(f"image without a name or aria-hidden: {image!r}")
    headings = list(tree.iter("h1"))
    if len(headings) != 1:
        found.append(f"{len(headings)} <h1> elements")
    html_element = next(tree.iter("html"), None)
    if html_element is None or not html_element.get("lang"):
        found.append("<html> without lang")
    if not any(m.get("name") == "viewport" and "width=device-width" in m.get("content", "")
               for m in tree.iter("meta")):
        found.append("no viewport meta")
    return found


def _field_named(field: Element, labelled: set, known: set) -> bool:
    if field.get("id") and field.get("id") in labelled:
        return True
    if any(ancestor.tag == "label" for ancestor in field.ancestors()):
        return True
    return bool(field.get("aria-label", "").strip()) or _refers(field.get("aria-labelledby"), known)


def _hidden(element: Element) -> bool:
    """Out of the accessibility tree (the builder's default submit button, there for the Enter key)."""
    return any(e.get("aria-hidden") == "true" for e in (element, *element.ancestors()))


def _refers(ids: str | None, known: set) -> bool:
    return bool(ids) and all(i in known for i in ids.split())


def _visible_text(element: Element) -> str:
    """Text a screen reader announces: text nodes, and the alt of images inside (not aria-hidden parts)."""
    if element.get("aria-hidden") == "true":
        return ""
    parts = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(child.strip())
        elif child.tag == "img":
            parts.append(child.get("alt", ""))
        elif child.tag == "svg":
            parts.append(child.get("aria-label", "") if child.get("aria-hidden") != "true" else "")
        else:
            parts.append(_visible_text(child))
    return " ".join(p for p in parts if p)


@pytest.mark.parametrize(("name", "state"), PAGES, ids=[state or name for name, state in PAGES])
def test_the_owners_page_is_accessible(client, world, name, state):
    client.force_login(owner_of(world, name))
    response = client.get(page_url(world, name, state))
    assert response.status_code == 200
    assert problems(response.content.decode()) == []


@pytest.mark.parametrize(("name", "state"), [(n, s) for n, s in PAGES if ROUTES[n].access == GUEST],
                         ids=[s or n for n, s in PAGES if ROUTES[n].access == GUEST])
def test_the_guests_page_is_accessible(client, world, guest_mode, name, state):
    response = client.get(page_url(world, name, state))
    assert response.status_code == 200
    assert problems(response.content.decode()) == []


@pytest.mark.parametrize("page", ["login", "api keys", "not found"])
def test_the_account_and_error_pages_are_accessible(client, world, page):
    if page == "login":
        response = client.get(reverse("accounts:login"))
    else:
        client.force_login(world.owner if page == "api keys" else world.other)
        address = reverse("accounts:api_keys") if page == "api keys" else url(world, "project_detail")
        response = client.get(address)
    assert response.status_code == (404 if page == "not found" else 200)
    assert problems(response.content.decode()) == []


def test_the_audit_finds_what_it_looks_for():
    page = ('<html><head></head><body><h1>A</h1><h1>B</h1><input name="q"><button></button>'
            '<a href="/x"><svg></svg></a><p id="p"></p><p id="p"></p><img src="/i.png"></body></html>')
    found = problems(page)
    assert "2 <h1> elements" in found and "<html> without lang" in found and "no viewport meta" in found
    assert 'id “p” used 2 times' in found
    assert any(p.startswith("control without a name: <input") for p in found)
    assert any(p.startswith("button without text") for p in found)
    assert any(p.startswith("a without text") for p in found)
    assert sum(p.startswith("image without a name") for p in found) == 2

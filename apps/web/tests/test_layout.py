import pytest

from apps.web.templatetags import web_nav

pytestmark = pytest.mark.django_db


def test_the_layout_has_a_skip_link_a_main_landmark_and_the_csrf_header(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'href="#main"' in html and '<main id="main"' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "vendor/htmx/htmx-2.0.7.min.js" in html and "vendor/htmx/ext-ws-2.0.3.min.js" in html


def test_a_user_sees_the_navigation_and_their_name_with_a_logout_button(client, owner):
    client.force_login(owner)
    html = client.get("/projects/").content.decode()
    assert '<nav aria-label="Main">' in html
    assert '<a href="/projects/" aria-current="page">Projects</a>' in html
    assert '<a href="/keys/">API keys</a>' in html
    assert "owner" in html and "Log out" in html
    assert "/admin/" not in html


def test_staff_also_see_the_admin_link(client, admin_user):
    client.force_login(admin_user)
    assert '<a href="/admin/">Admin</a>' in client.get("/").content.decode()


def test_a_guest_sees_only_the_readable_pages_and_a_login_link(client, guest_mode):
    html = client.get("/").content.decode()
    assert '<a href="/" aria-current="page">Dashboard</a>' in html
    assert "API keys" not in html and "Log out" not in html
    assert 'href="/login/"' in html


def test_nav_leaves_out_pages_whose_url_does_not_exist_yet(client, owner, monkeypatch):
    monkeypatch.setattr(web_nav, "NAV", [*web_nav.NAV, ("Nowhere", "web:not_built_yet", "all")])
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "Nowhere" not in html and "Dashboard" in html


def test_the_login_page_of_a_private_instance_shows_no_navigation(client, admin_user):
    html = client.get("/login/").content.decode()
    assert '<nav aria-label="Main">' not in html

"""Error pages: 404 and 403 in the app's layout with a way home; 500 and CSRF failures without surprises."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
def test_an_unknown_url_is_a_404_page_in_the_layout_with_a_way_home(client, owner):
    client.force_login(owner)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "<code>/no-such-page/</code>" in html
    assert '<nav aria-label="Main">' in html and '<a class="button" href="/">Go to the dashboard</a>' in html


@override_settings(DEBUG=False)
def test_another_users_project_is_the_same_404_page(client, owner, other_project):
    client.force_login(owner)
    response = client.get(reverse("web:project_detail", args=[other_project.pk]))
    html = response.content.decode()
    assert response.status_code == 404 and "Page not found" in html
    assert other_project.name not in html


@override_settings(DEBUG=False)
def test_an_unknown_api_url_still_answers_json(client, owner):
    client.force_login(owner)
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


@override_settings(DEBUG=False)
def test_a_guest_gets_the_404_page_with_a_login_link(client, guest_mode):
    html = client.get("/no-such-page/").content.decode()
    assert "Page not found" in html and 'href="/login/"' in html and "Log out" not in html


@override_settings(DEBUG=False)
def test_a_forbidden_page_says_why_in_the_layout(client, owner):
    client.force_login(owner)
    response = client.get(reverse("web:settings"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "Not allowed" in html and "Administrators only." in html and '<nav aria-label="Main">' in html
    assert "Go to the dashboard" in html


@override_settings(DEBUG=False)
def test_a_form_sent_without_its_csrf_token_gets_the_expired_form_page(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("web:project_create"), {"name": "No token"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired" in html and '<nav aria-label="Main">' in html and "owner" in html


def test_the_500_page_needs_no_database_and_no_request_context(django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and 'href="/"' in html and "/static/css/app.css" in html

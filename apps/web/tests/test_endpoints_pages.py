"""The endpoints pages: list, add, edit (write-only key), test connection, delete (refused while in use)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.endpoints.models import Endpoint
from apps.endpoints.services import endpoint_create
from apps.exports.tests.builders import make_experiment

pytestmark = pytest.mark.django_db

SECRET = "sk-test-abcdefgh1234"


def make(owner, *, label="local", base_url="http://127.0.0.1:9/v1", api_key=SECRET) -> Endpoint:
    return endpoint_create(owner=owner, label=label, base_url=base_url, api_key=api_key)


def form_data(**overrides) -> dict:
    data = {"label": "vllm box", "kind": "openai", "base_url": "http://127.0.0.1:8000/v1", "api_key": "",
            "max_concurrency": "4", "connect_timeout_s": "5", "read_timeout_s": "120", "model_prices": "",
            "is_active": "on"}
    return {**data, **overrides}


def test_the_list_shows_my_endpoints_and_not_anyone_elses(client, owner, other_user):
    make(owner, label="mine")
    make(other_user, label="theirs")
    client.force_login(owner)
    page = client.get(reverse("web:endpoints"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "mine" in html and "theirs" not in html
    assert "set, ends in …1234" in html and SECRET not in html


def test_the_list_is_paginated(client, owner):
    for number in range(30):
        make(owner, label=f"endpoint {number:02d}", api_key="")
    client.force_login(owner)
    first = client.get(reverse("web:endpoints")).content.decode()
    second = client.get(reverse("web:endpoints"), {"page": 2}).content.decode()
    assert "endpoint 00" in first and "endpoint 29" not in first
    assert "endpoint 29" in second and "Page 2 of 2" in second


def test_an_htmx_request_for_the_list_gets_only_the_list(client, owner):
    make(owner, label="mine")
    client.force_login(owner)
    html = client.get(reverse("web:endpoints"), HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="endpoint-list"')
    assert "<html" not in html and "mine" in html


def test_anonymous_visitors_are_sent_to_log_in_even_with_guest_access(client, admin_user, guest_mode):
    endpoint = make(admin_user)
    for url in (reverse("web:endpoints"), reverse("web:endpoint_create"),
                reverse("web:endpoint_edit", args=[endpoint.pk]), reverse("web:endpoint_delete", args=[endpoint.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    refused = client.post(reverse("web:endpoint_create"), form_data())
    assert refused.status_code == 302 and not Endpoint.objects.filter(label="vllm box").exists()
    assert client.post(reverse("web:endpoint_test", args=[endpoint.pk])).status_code == 302


def test_adding_an_endpoint_stores_the_key_without_showing_it(client, owner):
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_create"),
                           form_data(api_key=SECRET, model_prices="gpt-4o-mini 0.15 0.6\nbig model, 2, 8"), follow=True)
    endpoint = Endpoint.objects.get(owner=owner, label="vllm box")
    assert endpoint.get_api_key() == SECRET
    assert endpoint.model_prices == {
        "gpt-4o-mini": {"input": 0.15, "output": 0.6}, "big model": {"input": 2.0, "output": 8.0}}
    html = response.content.decode()
    assert "Endpoint “vllm box” added" in html and "set, ends in …1234" in html and SECRET not in html
    assert "gpt-4o-mini 0.15 0.6" in html


def test_a_refused_base_url_is_shown_next_to_the_field(client, owner):
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_create"), form_data(base_url="ftp://example.com/v1"))
    assert response.status_code == 400
    assert response.context["form"].errors["base_url"]
    html = response.content.decode()
    assert 'id="id_base_url_error"' in html and not Endpoint.objects.exists()


def test_a_label_already_used_is_refused_by_the_service_next_to_the_label(client, owner):
    make(owner, label="vllm box")
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_create"), form_data())
    assert response.status_code == 400
    assert response.context["form"].errors["label"] == ["You already have an endpoint with this label."]


def test_a_price_the_service_refuses_names_the_model_and_side(client, owner):
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_create"), form_data(model_prices="gpt -1 0.6"))
    assert response.status_code == 400
    assert response.context["form"].errors["model_prices"] == ["gpt.input: Expected a finite number ≥ 0."]


def test_a_price_line_that_cannot_be_read_says_which_line(client, owner):
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_create"), form_data(model_prices="gpt 1 2\njust-a-name"))
    assert response.status_code == 400
    assert "Line 2" in response.context["form"].errors["model_prices"][0]


def test_editing_without_a_new_key_keeps_the_stored_one(client, owner):
    endpoint = make(owner)
    client.force_login(owner)
    page = client.get(reverse("web:endpoint_edit", args=[endpoint.pk])).content.decode()
    assert "Remove the stored API key" in page and SECRET not in page
    client.post(reverse("web:endpoint_edit", args=[endpoint.pk]),
                form_data(label="renamed", base_url="http://127.0.0.1:9/v1", max_concurrency="8"))
    endpoint.refresh_from_db()
    assert (endpoint.label, endpoint.max_concurrency, endpoint.get_api_key()) == ("renamed", 8, SECRET)


def test_the_key_can_be_replaced_or_removed(client, owner):
    endpoint = make(owner)
    client.force_login(owner)
    url = reverse("web:endpoint_edit", args=[endpoint.pk])
    client.post(url, form_data(label="local", base_url="http://127.0.0.1:9/v1", api_key="sk-new-key-9876"))
    endpoint.refresh_from_db()
    assert endpoint.get_api_key() == "sk-new-key-9876"
    page = client.post(url, form_data(label="local", base_url="http://127.0.0.1:9/v1", clear_api_key="on"), follow=True)
    endpoint.refresh_from_db()
    assert not endpoint.has_api_key
    assert "API key: none stored" in page.content.decode()


def test_moving_the_url_to_another_server_says_the_key_was_removed(client, owner):
    endpoint = make(owner)
    client.force_login(owner)
    page = client.post(reverse("web:endpoint_edit", args=[endpoint.pk]),
                       form_data(label="local", base_url="http://127.0.0.2:9/v1"), follow=True)
    assert "Its API key was removed." in page.content.decode()


def test_a_refused_edit_keeps_the_page_showing_the_stored_endpoint(client, owner):
    endpoint = make(owner, label="local")
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_edit", args=[endpoint.pk]), form_data(label="x" * 5, base_url="nope"))
    assert response.status_code == 400
    assert "Endpoint “local”" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.label == "local"


def test_another_users_endpoint_is_not_found(client, owner, other_user):
    endpoint = make(other_user)
    client.force_login(owner)
    assert client.get(reverse("web:endpoint_edit", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("web:endpoint_edit", args=[endpoint.pk]), form_data()).status_code == 404
    assert client.post(reverse("web:endpoint_test", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("web:endpoint_delete", args=[endpoint.pk])).status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_testing_the_connection_lists_the_models_in_the_partial(client, owner, fake_llm):
    endpoint = make(owner, base_url=fake_llm.base_url)
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_test", args=[endpoint.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="endpoint-test"') and "<html" not in html
    assert "fake-chat-large" in html and "models available" in html and "<code>fake-embed</code>" in html


def test_testing_the_connection_without_javascript_shows_the_whole_page(client, owner, fake_llm):
    endpoint = make(owner, base_url=fake_llm.base_url)
    client.force_login(owner)
    html = client.post(reverse("web:endpoint_test", args=[endpoint.pk])).content.decode()
    assert "<html" in html and "fake-chat" in html and 'name="label"' in html


def test_a_failed_connection_test_explains_what_went_wrong(client, owner):
    endpoint = make(owner, base_url="http://127.0.0.1:9/v1")
    client.force_login(owner)
    html = client.post(reverse("web:endpoint_test", args=[endpoint.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "The test failed" in html and "connection refused" in html


def test_deleting_asks_first_then_deletes(client, owner):
    endpoint = make(owner)
    client.force_login(owner)
    confirm = client.get(reverse("web:endpoint_delete", args=[endpoint.pk])).content.decode()
    assert "Delete endpoint “local”?" in confirm and Endpoint.objects.filter(pk=endpoint.pk).exists()
    done = client.post(reverse("web:endpoint_delete", args=[endpoint.pk]), follow=True)
    assert "Endpoint “local” deleted." in done.content.decode()
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_deleting_an_endpoint_in_use_is_refused_naming_the_experiments(client, owner):
    endpoint = make(owner)
    make_experiment(owner, endpoint, name="Uses it")
    client.force_login(owner)
    response = client.post(reverse("web:endpoint_delete", args=[endpoint.pk]))
    assert response.status_code == 409
    html = response.content.decode()
    assert "This endpoint is used by 1 experiment" in html and "<li>Uses it</li>" in html
    assert 'class="danger">Delete endpoint' not in html
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()

"""Forwarded headers count only from a declared proxy, so a login rate limit cannot be dodged."""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from apps.projects.models import Project

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
PROXY = "10.0.0.2"


def api_login(*, password: str, peer: str, forwarded: str | None = None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post("/api/v1/auth/login", {"username": "owner", "password": password}, format="json",
                            **headers)


def html_login(*, password: str, peer: str, forwarded: str):
    return Client().post("/login/", {"username": "owner", "password": password},
                         REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)


def test_api_logins_lock_even_when_each_claims_a_new_forwarded_address(owner, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        api_login(password="wrong", peer="203.0.113.5", forwarded=f"198.51.100.{n}")
    response = api_login(password=PASSWORD, peer="203.0.113.5", forwarded="198.51.100.200")
    assert response.status_code == 429


def test_html_logins_lock_even_when_each_claims_a_new_forwarded_address(owner, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        html_login(password="wrong", peer="203.0.113.5", forwarded=f"198.51.100.{n}")
    assert html_login(password=PASSWORD, peer="203.0.113.5", forwarded="198.51.100.200").status_code == 429


def test_behind_a_trusted_proxy_two_clients_are_counted_apart(owner, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        # The client claims a new address each time; the proxy appends the address it really saw.
        spoofed = f"192.0.2.{n}, 198.51.100.7"
        api_login(password="wrong", peer=PROXY, forwarded=spoofed)
    assert api_login(password=PASSWORD, peer=PROXY, forwarded="192.0.2.99, 198.51.100.7").status_code == 429
    assert api_login(password=PASSWORD, peer=PROXY, forwarded="198.51.100.8").status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def test_the_html_login_behind_a_trusted_proxy_counts_the_forwarded_client(owner, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        html_login(password="wrong", peer=PROXY, forwarded="198.51.100.7")
    assert html_login(password=PASSWORD, peer=PROXY, forwarded="198.51.100.7").status_code == 429
    assert html_login(password=PASSWORD, peer=PROXY, forwarded="198.51.100.8").status_code == 302


def test_a_chain_of_trusted_proxies_is_skipped_to_the_first_untrusted_hop(owner, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    api_login(password="wrong", peer=PROXY, forwarded="192.0.2.1, 198.51.100.7, 10.1.2.3")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


def test_a_forwarded_address_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(owner, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    for n in range(settings.AXES_FAILURE_LIMIT):
        api_login(password="wrong", peer="203.0.113.5", forwarded=f"198.51.100.{n}")
    assert api_login(password=PASSWORD, peer="203.0.113.5", forwarded="198.51.100.99").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_a_garbled_forwarded_header_from_a_trusted_proxy_counts_the_proxy(owner, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert api_login(password="wrong", peer=PROXY, forwarded="not-an-address").status_code == 401
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [PROXY]


def next_link(api, *, peer: str) -> str:
    return api.get("/api/v1/projects?page_size=1", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https").json()["next"]


def test_forwarded_proto_counts_only_from_a_trusted_proxy(api, owner, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = [PROXY]
    Project.objects.create(owner=owner, name="one")
    Project.objects.create(owner=owner, name="two")
    assert next_link(api, peer=PROXY).startswith("https://")
    assert next_link(api, peer="203.0.113.5").startswith("http://")


def test_forwarded_proto_is_ignored_unless_the_deployment_is_behind_a_tls_proxy(api, owner, settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXIES = [PROXY]
    Project.objects.create(owner=owner, name="one")
    Project.objects.create(owner=owner, name="two")
    assert next_link(api, peer=PROXY).startswith("http://")


def test_a_trusted_proxies_entry_that_is_not_an_address_fails_loudly(owner, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.local"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES.*proxy.local"):
        Client().get("/health")


def test_behind_a_tls_proxy_without_a_proxy_list_forwarded_proto_still_counts(api, owner, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    Project.objects.create(owner=owner, name="one")
    Project.objects.create(owner=owner, name="two")
    assert next_link(api, peer="203.0.113.5").startswith("https://")

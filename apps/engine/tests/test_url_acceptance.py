"""Save-time URL acceptance: what httpx and aiohttp cannot request, or a policy never allows, is refused."""

from __future__ import annotations

import httpx
import pytest
import yarl

from apps.engine.egress import Allowlist, Policy
from apps.engine.egress.urls import UrlRefused, accept_url
from apps.engine.scorers import validate_scorer_options
from apps.engine.scorers.base import OptionsInvalid


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:11434/v1", "https://api.openai.com/v1", "http://[::1]:8000/v1", "http://ollama.lan:11434",
    "http://10.0.0.5/v1", "http://my_host.local/v1", "https://example.com./v1",
])
def test_urls_an_llm_client_can_request_are_accepted_as_written(url):
    assert accept_url(url, policy=Policy.LLM) == url


def test_the_scheme_and_host_are_lowercased_and_surrounding_space_dropped():
    assert accept_url("  HTTPS://Api.Example.COM/V1  ", policy=Policy.LLM) == "https://api.example.com/V1"


@pytest.mark.parametrize(("url", "message"), [
    ("http://0177.0.0.1/x", "leading zeros are ambiguous"),
    ("http://127.000.000.001/x", "leading zeros are ambiguous; write 127.0.0.1"),
    ("http://0127.0.0.1:11434/v1", "leading zeros are ambiguous"),
    ("http://01.02.03.04/", "leading zeros are ambiguous; write 1.2.3.4"),
    ("http://[::1/x", "not a valid URL"),
    ("http://[::1]x/", "cannot be requested"),
    ("http://[zz::1]/", "not a valid URL"),
    ("http://256.1.1.1/", "not a valid IPv4 address"),
    ("http://1.2.3.4.5/", "not a valid IPv4 address"),
    ("http://2130706433/", "write 127.0.0.1"),
    ("http://0x7f.1/", "write 127.0.0.1"),
    ("http://127.1/", "write 127.0.0.1"),
    ("http://a..b/", "not a valid host name"),
    ("http://exa mple.com/", "spaces"),
    ("http://h\\x/", "backslash"),
    ("ftp://example.com/", "http:// or https://"),
    ("example.com/v1", "http:// or https://"),
    ("http:///v1", "no host"),
    ("http://user:pw@example.com/", "credentials"),
    ("http://example.com:0/", "port"),
    ("http://example.com:99999/", "port"),
    ("http://example.com:80a/", "port"),
    ("", "Enter a URL"),
])
def test_urls_that_cannot_be_requested_are_refused_with_the_reason(url, message):
    with pytest.raises(UrlRefused) as refused:
        accept_url(url, policy=Policy.LLM)
    assert message in str(refused.value)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest", "http://169.254.170.2/v2", "http://[fd00:ec2::254]/", "http://100.100.100.200/",
    "http://0.0.0.0:8000/v1", "http://[::]/", "http://0/", "http://2852039166/", "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376:8000/v1", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/", "http://169.254.169.254./",
])
@pytest.mark.parametrize("policy", [Policy.LLM, Policy.WEBHOOK, None])
def test_metadata_and_unspecified_addresses_in_any_spelling_are_refused_for_every_policy(url, policy):
    with pytest.raises(UrlRefused) as refused:
        accept_url(url, policy=policy, allowlist=Allowlist.parse("0.0.0.0/0\n::/0"))
    assert "always blocked" in str(refused.value)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hook", "http://[::1]/hook", "http://10.0.0.5/hook", "http://192.168.1.2/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[fe80::1%25eth0]/hook",
])
def test_webhooks_refuse_literal_private_and_loopback_addresses(url):
    with pytest.raises(UrlRefused) as refused:
        accept_url(url, policy=Policy.WEBHOOK)
    assert "public addresses only" in str(refused.value)


def test_an_allowlisted_address_is_accepted_for_webhooks_on_that_port_only():
    allowlist = Allowlist.parse("127.0.0.1:9000")
    assert accept_url("http://127.0.0.1:9000/h", policy=Policy.WEBHOOK, allowlist=allowlist)
    with pytest.raises(UrlRefused):
        accept_url("http://127.0.0.1:9001/h", policy=Policy.WEBHOOK, allowlist=allowlist)


def test_webhook_hostnames_are_not_resolved_at_save(monkeypatch):
    def no_dns(*args, **kwargs):
        raise AssertionError("resolved at save")

    monkeypatch.setattr("apps.engine.egress.policy.resolve", no_dns)
    assert accept_url("https://hooks.example.com/in", policy=Policy.WEBHOOK) == "https://hooks.example.com/in"


def test_without_a_policy_only_the_always_blocked_addresses_are_refused():
    assert accept_url("http://127.0.0.1:9000/score", policy=None) == "http://127.0.0.1:9000/score"
    with pytest.raises(UrlRefused):
        accept_url("http://169.254.169.254/", policy=None)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:11434/v1", "https://api.openai.com/v1", "http://[::1]:8000/v1", "https://xn--nicode-2ya.example/",
    "https://ünicode.example/v1", "http://h/a%20b?x=1", "https://h:443",
])
def test_every_accepted_url_parses_in_both_http_clients(url):
    accepted = accept_url(url, policy=Policy.LLM)
    assert httpx.URL(accepted).host
    assert yarl.URL(accepted).host


@pytest.mark.parametrize("url", ["http://169.254.169.254/score", "http://0.0.0.0:9000/score", "http://2852039166/"])
def test_a_webhook_scorer_refuses_a_metadata_url_naming_the_url_option(url):
    with pytest.raises(OptionsInvalid) as refused:
        validate_scorer_options("webhook", {"url": url})
    assert refused.value.field == "url"

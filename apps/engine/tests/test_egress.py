"""The egress guard: connect-time policy checks, allowlist, no redirects, body caps.

Every request test runs through both clients (async over aiohttp, sync over httpcore) and
only ever talks to canary servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

import httpx
import pytest

from apps.engine import egress
from apps.engine.egress import Allowlist, Policy
from apps.engine.egress.policy import Guard

CLIENTS = ["async", "sync"]
PUBLIC = "93.184.216.34"


def fetch(kind: str, url: str, *, policy: Policy, **options: object) -> httpx.Response:
    """GET `url` with a fresh egress client of `kind`, reading the whole body."""
    options.setdefault("connect_timeout_s", 1.0)
    options.setdefault("read_timeout_s", 5.0)
    if kind == "sync":
        with egress.sync_client(policy=policy, **options) as client:
            return client.get(url)

    async def get() -> httpx.Response:
        async with egress.async_client(policy=policy, **options) as client:
            return await client.get(url)

    return asyncio.run(get())


LOOPBACK_SPELLINGS = [
    "127.0.0.1", "localhost", "127.1", "127.0.1", "2130706433", "0x7f.1", "0x7f000001", "017700000001",
    "0", "0.0.0.0", "[::]", "[::1]", "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]", "[::127.0.0.1]", "[2002:7f00:1::]", "[64:ff9b::7f00:1]",
    "[::ffff:0:127.0.0.1]",
]


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_webhook_policy_blocks_every_spelling_of_loopback(kind, host, canary):
    with pytest.raises(egress.EgressDenied):
        fetch(kind, f"http://{host}:{canary.port}/hook", policy=Policy.WEBHOOK)
    assert canary.hits == 0


@pytest.mark.parametrize("kind", CLIENTS)
def test_webhook_policy_blocks_a_name_that_resolves_to_loopback(kind, canary, stub_dns):
    stub_dns({"hooks.example.com": ["127.0.0.1"]})
    with pytest.raises(egress.EgressDenied, match="hooks.example.com resolves to 127.0.0.1"):
        fetch(kind, f"http://hooks.example.com:{canary.port}/", policy=Policy.WEBHOOK)
    assert canary.hits == 0


@pytest.mark.parametrize("kind", CLIENTS)
def test_dns_rebinding_is_caught_by_the_connect_time_check(kind, canary, stub_dns):
    stub_dns({"rebind.example.com": [[PUBLIC], ["127.0.0.1"]]})
    url = f"http://rebind.example.com:{canary.port}/"
    assert egress.check_url(url, policy=Policy.WEBHOOK) == [PUBLIC]
    with pytest.raises(egress.EgressDenied, match="127.0.0.1"):
        fetch(kind, url, policy=Policy.WEBHOOK)
    assert stub_dns.lookups["rebind.example.com"] == 2
    assert canary.hits == 0


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("policy", list(Policy))
def test_one_denied_address_spoils_the_whole_lookup(kind, policy, canary, stub_dns):
    stub_dns({"mixed.example.com": [PUBLIC, "169.254.169.254"]})
    with pytest.raises(egress.EgressDenied, match="169.254.169.254, which is a cloud metadata address"):
        fetch(kind, f"http://mixed.example.com:{canary.port}/", policy=policy)
    assert canary.hits == 0


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_name_with_one_public_and_one_loopback_address_is_denied_to_webhooks(kind, canary, stub_dns):
    stub_dns({"mixed.example.com": [PUBLIC, "127.0.0.1"]})
    with pytest.raises(egress.EgressDenied):
        fetch(kind, f"http://mixed.example.com:{canary.port}/", policy=Policy.WEBHOOK)
    assert canary.hits == 0


METADATA_SPELLINGS = [
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "[fd00:ec2::254]", "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::]", "[::169.254.169.254]",
    "[fd00:ec2::254%25eth0]", "metadata.google.internal",
]


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("host", METADATA_SPELLINGS)
def test_cloud_metadata_is_denied_under_every_policy_even_when_allowlisted(kind, policy, host, stub_dns):
    stub_dns({"metadata.google.internal": ["169.254.169.254"]})
    allowlist = Allowlist.parse("169.254.0.0/16\n100.64.0.0/10\nfd00::/8\nmetadata.google.internal")
    with pytest.raises(egress.EgressDenied, match="cloud metadata address; it is always blocked"):
        fetch(kind, f"http://{host}/latest/meta-data/", policy=policy, allowlist=allowlist)


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_llm_policy_reaches_loopback_where_local_models_live(kind, host, canary):
    response = fetch(kind, f"http://{host}:{canary.port}/v1/models", policy=Policy.LLM)
    assert response.status_code == 200
    assert response.text == "canary"
    assert canary.hits == 1


@pytest.mark.parametrize("kind", CLIENTS)
def test_allowlisting_one_address_and_port_lets_a_webhook_reach_only_that(kind, make_canary, stub_dns):
    allowed, other = make_canary(), make_canary()
    stub_dns({"other.example.com": ["127.0.0.1"]})
    allowlist = Allowlist.parse(f"127.0.0.1:{allowed.port}")
    assert fetch(kind, f"{allowed.url}/hook", policy=Policy.WEBHOOK, allowlist=allowlist).status_code == 200
    with pytest.raises(egress.EgressDenied):
        fetch(kind, f"{other.url}/hook", policy=Policy.WEBHOOK, allowlist=allowlist)
    with pytest.raises(egress.EgressDenied):
        fetch(kind, f"http://[::1]:{allowed.port}/hook", policy=Policy.WEBHOOK, allowlist=allowlist)
    assert (allowed.hits, other.hits) == (1, 0)


@pytest.mark.parametrize("kind", CLIENTS)
def test_allowlisting_a_host_relaxes_nothing_for_other_names_on_the_same_address(kind, canary, stub_dns):
    stub_dns({"gpu-box.lan": ["127.0.0.1"], "evil.example.com": ["127.0.0.1"]})
    allowlist = Allowlist.parse("gpu-box.lan")
    assert fetch(kind, f"http://gpu-box.lan:{canary.port}/", policy=Policy.WEBHOOK, allowlist=allowlist).is_success
    with pytest.raises(egress.EgressDenied):
        fetch(kind, f"http://evil.example.com:{canary.port}/", policy=Policy.WEBHOOK, allowlist=allowlist)
    assert canary.hits == 1


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_redirect_is_an_error_naming_its_target_and_is_not_followed(kind, make_canary):
    first, second = make_canary(), make_canary()
    first.reply(302, b"", {"Location": f"http://localhost:{second.port}/secret"})
    response = fetch(kind, f"{first.url}/start", policy=Policy.LLM)
    with pytest.raises(egress.RedirectNotFollowed, match="redirect to localhost not followed") as caught:
        egress.raise_for_redirect(response)
    assert caught.value.target_host == "localhost"
    assert (first.hits, second.hits) == (1, 0)


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("send_length", [True, False])
def test_a_body_over_the_cap_is_an_error(kind, send_length, canary):
    canary.reply(200, b"x" * 5000, send_length=send_length)
    with pytest.raises(egress.BodyTooLarge, match="larger than 1000 bytes"):
        fetch(kind, canary.url, policy=Policy.LLM, max_body_bytes=1000)
    assert fetch(kind, canary.url, policy=Policy.LLM, max_body_bytes=5000).content == b"x" * 5000


@pytest.mark.parametrize("kind", CLIENTS)
def test_tls_to_a_checked_address_still_verifies_the_hostname(kind, make_canary, stub_dns, tls_identity):
    server_tls, client_tls = tls_identity
    canary = make_canary(server_tls)
    stub_dns({"pinned.test": ["127.0.0.1"], "impostor.test": ["127.0.0.1"]})
    response = fetch(kind, f"https://pinned.test:{canary.port}/", policy=Policy.LLM, verify=client_tls)
    assert response.status_code == 200
    assert canary.requests[0]["host"] == f"pinned.test:{canary.port}"
    with pytest.raises(httpx.ConnectError, match="(?i)certificate|hostname"):
        fetch(kind, f"https://impostor.test:{canary.port}/", policy=Policy.LLM, verify=client_tls)


def test_read_capped_stops_a_streamed_body_at_the_limit(canary):
    canary.reply(200, b"y" * 3000, send_length=False)

    async def read(limit: int) -> bytes:
        async with egress.async_client(policy=Policy.LLM) as client:
            async with client.stream("GET", canary.url) as response:
                return await egress.read_capped(response, limit)

    assert asyncio.run(read(3000)) == b"y" * 3000
    with pytest.raises(egress.BodyTooLarge):
        asyncio.run(read(2999))
    with egress.sync_client(policy=Policy.LLM) as client, client.stream("GET", canary.url) as response:
        with pytest.raises(egress.BodyTooLarge):
            egress.read_capped_sync(response, 100)


def test_the_default_caps_are_8_mib_for_llm_calls_and_1_mib_for_webhooks():
    assert egress.LLM_MAX_BODY_BYTES == 8 * 1024 * 1024
    assert egress.WEBHOOK_MAX_BODY_BYTES == 1024 * 1024


@pytest.mark.parametrize("kind", CLIENTS)
def test_proxy_environment_variables_are_ignored(kind, make_canary, monkeypatch):
    proxy, target = make_canary(), make_canary()
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch(kind, target.url, policy=Policy.LLM).status_code == 200
    assert (proxy.hits, target.hits) == (0, 1)


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/"])
def test_only_http_and_https_are_allowed(kind, url):
    with pytest.raises((egress.EgressDenied, httpx.UnsupportedProtocol)):
        fetch(kind, url, policy=Policy.LLM)


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_denial_message_never_contains_url_credentials(kind, canary):
    with pytest.raises(egress.EgressDenied) as caught:
        fetch(kind, f"http://admin:hunter2-secret@127.0.0.1:{canary.port}/", policy=Policy.WEBHOOK)
    assert "hunter2" not in str(caught.value)
    assert canary.hits == 0


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_refused_connection_is_a_connect_error(kind, canary):
    port = canary.port
    canary.close()
    with pytest.raises(httpx.ConnectError):
        fetch(kind, f"http://127.0.0.1:{port}/", policy=Policy.LLM)


def test_an_unresolvable_name_is_a_connect_error_at_save_time(stub_dns):
    stub_dns({"nowhere.invalid": []})
    with pytest.raises(httpx.ConnectError):
        egress.check_url("http://nowhere.invalid/", policy=Policy.WEBHOOK)


def test_the_sync_client_still_installs_its_guard_in_httpcore():
    # The sync guard patches a private httpcore attribute; this fails if httpx/httpcore move it.
    with egress.sync_client(policy=Policy.WEBHOOK) as client:
        backend = client._transport._pool._network_backend
    assert type(backend).__name__ == "_GuardedBackend"


ALWAYS_DENIED = [
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "::ffff:a9fe:a9fe",
    "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "0.0.0.0", "0.1.2.3", "::", "::ffff:0.0.0.0",
]
DENIED_TO_BOTH = [
    "169.254.1.1", "fe80::c800:eff:fe74:8", "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",
    "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "2001:db8::1", "64:ff9b:1::a00:1",
    "::ffff:ffff:ffff",
]
LLM_ONLY = [
    "127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1", "10.0.0.2", "172.16.0.2", "192.168.1.2",
    "::ffff:c0a8:102", "100.64.0.0", "100.64.255.255", "fd00::1", "fc00:bf8b:e62c:abcd:abcd:aaaa:aaaa:aaaa",
    "feef::1", "fee2::", "2001:0:4136:e378:8000:63bf:80ff:fffe",  # the last is Teredo for 127.0.0.1
]
PUBLIC_ADDRESSES = [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::", "::ffff:8.8.8.8"]


def allowed(policy: Policy, address: str, allowlist: Allowlist | None = None, host: str | None = None,
            port: int = 443) -> bool:
    try:
        Guard(policy, allowlist or Allowlist()).check(host or address, port, [address])
    except egress.EgressDenied:
        return False
    return True


@pytest.mark.parametrize("address", ALWAYS_DENIED + DENIED_TO_BOTH)
def test_these_addresses_are_denied_under_both_policies(address):
    assert not allowed(Policy.LLM, address)
    assert not allowed(Policy.WEBHOOK, address)


@pytest.mark.parametrize("address", LLM_ONLY)
def test_loopback_and_private_addresses_are_for_llm_endpoints_only(address):
    assert allowed(Policy.LLM, address)
    assert not allowed(Policy.WEBHOOK, address)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed_under_both_policies(address):
    assert allowed(Policy.LLM, address)
    assert allowed(Policy.WEBHOOK, address)


@pytest.mark.parametrize("address", ALWAYS_DENIED)
def test_no_allowlist_opens_metadata_or_unspecified_addresses(address):
    everything = Allowlist.parse("0.0.0.0/0\n::/0")
    assert not allowed(Policy.LLM, address, everything)
    assert allowed(Policy.WEBHOOK, "10.9.9.9", everything)


def test_an_allowlist_entry_with_a_port_matches_that_port_only():
    allowlist = Allowlist.parse("10.0.5.7:8000")
    assert allowed(Policy.WEBHOOK, "10.0.5.7", allowlist, port=8000)
    assert not allowed(Policy.WEBHOOK, "10.0.5.7", allowlist, port=22)
    assert not allowed(Policy.WEBHOOK, "10.0.5.8", allowlist, port=8000)


def test_an_allowlisted_address_relaxes_nothing_for_other_addresses_of_a_name():
    allowlist = Allowlist.parse("10.0.5.7")
    guard = Guard(Policy.WEBHOOK, allowlist)
    assert guard.check("a.example.com", 80, ["10.0.5.7"]) == ["10.0.5.7"]
    with pytest.raises(egress.EgressDenied, match="10.0.5.8"):
        guard.check("a.example.com", 80, ["10.0.5.7", "10.0.5.8"])


def test_allowlisting_a_cidr_opens_the_link_local_range_for_llm_endpoints():
    assert not allowed(Policy.LLM, "169.254.10.20")
    assert allowed(Policy.LLM, "169.254.10.20", Allowlist.parse("169.254.10.0/24"))


def test_the_allowlist_reads_hosts_addresses_networks_ports_and_comments():
    text = "# LAN boxes\ngpu-box.lan:8000, 192.168.1.0/24\n\n[::1]:8080  fd00::/8\n[fd12::/16]:9000 Ollama.LAN."
    entries = Allowlist.parse(text).entries
    assert [(e.host, str(e.network) if e.network else None, e.port) for e in entries] == [
        ("gpu-box.lan", None, 8000), (None, "192.168.1.0/24", None), (None, "::1/128", 8080),
        (None, "fd00::/8", None), (None, "fd12::/16", 9000), ("ollama.lan", None, None),
    ]


@pytest.mark.parametrize("line", [
    "http://gpu-box.lan", "10.0.0.1:99999", "10.0.0.1:0", "300.1.1.1", "10.0.0.0/33", "[::1", "bad_host!",
    "127.1", "169.254.169.254", "[fd00:ec2::254]:80", "0.0.0.0", "-leading.example.com",
])
def test_a_bad_allowlist_line_is_rejected_naming_its_line_number(line):
    with pytest.raises(ValueError, match=r"^line 3: "):
        Allowlist.parse(f"ok.lan\n# fine\n{line}\n10.0.0.1")


def test_canonical_unwraps_every_ipv6_form_that_embeds_ipv4():
    for spelling in ["::ffff:127.0.0.1", "::127.0.0.1", "2002:7f00:1::", "64:ff9b::7f00:1", "::ffff:0:7f00:1",
                     "2001:0:4136:e378:8000:63bf:80ff:fffe"]:
        assert egress.canonical(ip_address(spelling)) == ip_address("127.0.0.1"), spelling
    assert egress.canonical(ip_address("::1")) == ip_address("::1")

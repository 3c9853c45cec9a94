"""Egress policy: which resolved addresses a call may reach, and the admin allowlist.

IPv6 forms that embed IPv4 (mapped, compatible, 6to4, NAT64, Teredo) are unwrapped before
classifying, because `ipaddress` calls `::ffff:127.0.0.1` not loopback and NAT64/6to4 forms
of loopback or metadata addresses global.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from apps.engine.egress.allowlist_syntax import allowlist_entry_error

IPAddress = IPv4Address | IPv6Address


class Policy(Enum):
    LLM = "llm"  # public, loopback and private networks (Ollama and vLLM live there)
    WEBHOOK = "webhook"  # public addresses only: anything a user types in


_ALLOWED = {Policy.LLM: {"public", "loopback", "private"}, Policy.WEBHOOK: {"public"}}
_SCOPE = {
    Policy.LLM: "LLM endpoints may reach public, loopback and private-network addresses only",
    Policy.WEBHOOK: "webhooks may reach public addresses only",
}
ALWAYS_DENIED = {"metadata", "unspecified"}
PHRASES = {
    "metadata": "a cloud metadata address",
    "unspecified": "an unspecified address",
    "loopback": "a loopback address",
    "private": "a private-network address",
    "link-local": "a link-local address",
    "multicast": "a multicast address",
    "reserved": "a reserved or non-routable address",
}
METADATA_ADDRESSES = frozenset(
    ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_PRIVATE = tuple(
    ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fec0::/10")
)
_THIS_NETWORK = ip_network("0.0.0.0/8")
_NAT64 = ip_network("64:ff9b::/96")
_NAT64_LOCAL = ip_network("64:ff9b:1::/48")
_TRANSLATED = ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ip_network("::/96")


class EgressError(httpx.TransportError):
    """A request this module refused to make or to finish."""


class EgressDenied(EgressError):
    def __init__(self, message: str, *, host: str = "", address: str = "", category: str = "") -> None:
        super().__init__(message)
        self.host, self.address, self.category = host, address, category


class RedirectNotFollowed(EgressError):
    def __init__(self, message: str, *, target_host: str) -> None:
        super().__init__(message)
        self.target_host = target_host


class BodyTooLarge(EgressError):
    pass


def canonical(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form embeds, or `ip` itself (`ipaddress` calls these global)."""
    if ip.version == 4:
        return ip
    embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
    if embedded is not None:
        return embedded
    if ip in _NAT64 or ip in _TRANSLATED or (ip in _COMPATIBLE and int(ip) > 1):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def category(ip: IPAddress) -> str:
    """One of the `PHRASES` keys or "public", for an address already canonicalised."""
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if any(ip in net for net in _PRIVATE):
        return "private"
    if ip in _NAT64_LOCAL or not ip.is_global:
        return "reserved"
    return "public"


@dataclass(frozen=True)
class AllowEntry:
    host: str | None = None
    network: IPv4Network | IPv6Network | None = None
    port: int | None = None

    def matches(self, host: str, ips: tuple[IPAddress, ...], port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host
        return any(ip.version == self.network.version and ip in self.network for ip in ips)


_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_WITH_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<plain>[^:\[\]]+))(?::(?P<port>\d{1,5}))?$")


@dataclass(frozen=True)
class Allowlist:
    """Admin exceptions to a policy: `host`, `ip` or `cidr`, each optionally `:port`."""

    entries: tuple[AllowEntry, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            for token in re.split(r"[,\s]+", line.split("#", 1)[0].strip()):
                if token:
                    problem = allowlist_entry_error(token)
                    if problem:
                        raise ValueError(f"line {number}: '{token}': {problem}")
                    try:
                        entries.append(_parse_entry(token))
                    except ValueError as exc:
                        raise ValueError(f"line {number}: {exc}") from None
        return cls(tuple(entries))

    def allows(self, host: str, ip: IPAddress, port: int) -> bool:
        ips = (ip, canonical(ip))
        return any(entry.matches(norm_host(host), ips, port) for entry in self.entries)


def _parse_entry(token: str) -> AllowEntry:
    match = _WITH_PORT.match(token)
    if match is None and token.count(":") > 1:  # a bare IPv6 address or network, no port
        addr, port = token, None
    elif match is None:
        raise ValueError(f"'{token}' is not a host, IP address or CIDR (with an optional :port)")
    else:
        addr, port = match["v6"] or match["plain"], match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(f"'{token}' has an invalid port {port}")
    port = int(port) if port is not None else None
    try:
        network = ip_network(addr, strict=False)
    except ValueError:
        if "/" in addr or ":" in addr or addr.replace(".", "").isdigit():
            raise ValueError(f"'{addr}' is not a valid IP address or CIDR") from None
        return AllowEntry(host=_valid_host(addr), port=port)
    if network.num_addresses == 1:
        kind = category(canonical(network.network_address))
        if kind in ALWAYS_DENIED:
            raise ValueError(f"{addr} is {PHRASES[kind]} and cannot be allowlisted")
    return AllowEntry(network=network, port=port)


def _valid_host(name: str) -> str:
    try:
        host = norm_host(name.encode("idna").decode("ascii"))
    except UnicodeError:
        host = ""
    if not host or len(host) > 253 or not all(_HOST_LABEL.match(p) for p in host.split(".")):
        raise ValueError(f"'{name}' is not a valid host name")
    return host


def norm_host(host: str) -> str:
    return host.lower().rstrip(".")


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to; the seam tests patch to stub DNS."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Guard:
    policy: Policy
    allowlist: Allowlist = Allowlist()

    def check(self, host: str, port: int, addresses: Iterable[str]) -> list[str]:
        """Return `addresses` if every one may be reached; raise EgressDenied otherwise."""
        checked = list(addresses)
        if not checked:
            raise httpx.ConnectError(f"{host} resolved to no address")
        for text in checked:
            self._check_one(host, port, text)
        return checked

    def lookup(self, host: str, port: int) -> list[str]:
        if _is_literal(host):  # checked as written, whatever the resolver makes of a zone id
            self.check(host, port, [host])
        try:
            addresses = resolve(host, port)  # looked up at call time so tests can patch it
        except (OSError, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
        return self.check(host, port, addresses)

    def _check_one(self, host: str, port: int, text: str) -> None:
        # A zone id (fe80::1%eth0) would make `ip in METADATA_ADDRESSES` miss: classify without it.
        ip = ip_address(text.split("%", 1)[0])
        kind = category(canonical(ip))
        if kind not in ALWAYS_DENIED and (
            kind in _ALLOWED[self.policy] or self.allowlist.allows(host, ip, port)
        ):
            return
        if norm_host(host) == norm_host(text):
            subject = f"{text} embeds {canonical(ip)}, which" if canonical(ip) != ip else text
        else:
            subject = f"{host} resolves to {text}, which"
        if kind in ALWAYS_DENIED:
            why = "it is always blocked"
        else:
            why = f"{_SCOPE[self.policy]} unless an admin allowlists it"
        message = f"{subject} is {PHRASES[kind]}; {why}"
        raise EgressDenied(message, host=host, address=text, category=kind)


def _is_literal(host: str) -> bool:
    try:
        ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_url(url: str | httpx.URL, *, policy: Policy, allowlist: Allowlist | None = None) -> list[str]:
    """Save-time check: resolve the URL's host now (the connect-time check still decides)."""
    parsed = httpx.URL(url)
    check_scheme(parsed)
    host, port = host_port(parsed)
    return Guard(policy, allowlist or Allowlist()).lookup(host, port)


def check_scheme(url: httpx.URL) -> None:
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise EgressDenied(f"only http and https URLs with a host are allowed, not '{url.scheme}:'")


def host_port(url: httpx.URL) -> tuple[str, int]:
    host = url.raw_host.decode("ascii").replace("%25", "%")
    return host, url.port or (443 if url.scheme == "https" else 80)


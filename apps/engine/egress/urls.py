"""Save-time URL acceptance: refuse what httpx or aiohttp cannot request and literal addresses a policy denies.

Host names are not resolved here; the connect-time guard checks every resolved address and stays
the real guard. An IPv4 address must be written as four plain decimal numbers: other spellings
(`2130706433`, `0x7f.1`, `0177.0.0.1`) are read differently by different parsers, so they are
refused with the canonical form to write instead.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
import yarl

from apps.engine.egress.policy import (
    ALWAYS_DENIED,
    PHRASES,
    Allowlist,
    EgressDenied,
    Guard,
    Policy,
    canonical,
    category,
)

MAX_URL_CHARS = 2000
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_NUMBER = re.compile(r"^(?:[0-9]+|0[xX][0-9a-fA-F]*)$")


class UrlRefused(ValueError):
    """A URL that will not be saved; the message says why. `category` names a denied address's kind."""

    def __init__(self, message: str, *, category: str = "") -> None:
        super().__init__(message)
        self.category = category


def accept_url(url: str, *, policy: Policy | None, allowlist: Allowlist | None = None) -> str:
    """The URL with scheme and host lowercased, or UrlRefused saying what is wrong with it.

    `policy=None` refuses only what every policy refuses (metadata and unspecified addresses),
    for callers that cannot see the admin allowlist.
    """
    text = url.strip() if isinstance(url, str) else ""
    if not text:
        raise UrlRefused("Enter a URL.")
    if len(text) > MAX_URL_CHARS:
        raise UrlRefused(f"The URL must be at most {MAX_URL_CHARS} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise UrlRefused("The URL must not contain spaces or control characters.")
    if "\\" in text:
        raise UrlRefused("The URL must not contain backslashes.")
    parts = _split(text)
    host = parts.hostname or ""
    port = _port(parts)
    literal = _literal(host, bracketed="[" in parts.netloc)
    if literal is not None:
        _check_literal(host, literal, port, policy=policy, allowlist=allowlist)
    else:
        _check_host_name(host)
    normalized = urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))
    _check_clients_accept(normalized)
    return normalized


def _split(text: str) -> SplitResult:
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UrlRefused(f"This is not a valid URL ({exc}).") from None
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(("http://", "https://")):
        raise UrlRefused("The URL must start with http:// or https://.")
    if "@" in parts.netloc:
        raise UrlRefused("Do not put credentials (user:password@) in the URL.")
    if not parts.hostname:
        raise UrlRefused("The URL has no host.")
    return parts


def _port(parts: SplitResult) -> int:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise UrlRefused("The port must be a number from 1 to 65535.")
    return port or (443 if parts.scheme.lower() == "https" else 80)


def _literal(host: str, *, bracketed: bool) -> IPv4Address | IPv6Address | None:
    """The address a literal host names, None for a host name; UrlRefused for an ambiguous spelling."""
    if bracketed:
        try:
            return ip_address(host.split("%", 1)[0])
        except ValueError:
            raise UrlRefused(f"This is not a valid URL ({host!r} is not an IPv6 address).") from None
    labels = host.removesuffix(".").split(".")
    if not _NUMBER.match(labels[-1]):
        return None  # a name: WHATWG URL parsing treats a host as IPv4 only when it ends in a number
    try:
        address = IPv4Address(host)
    except ValueError:
        address = None
    if address is not None and str(address) == host:
        return address
    raise _spelling_refused(host, labels)


def _spelling_refused(host: str, labels: list[str]) -> UrlRefused:
    whatwg = _ipv4_whatwg(labels)
    zeros = any(len(label) > 1 and label.startswith("0") and label[1:2] not in "xX" for label in labels)
    decimal = _ipv4_decimal(labels) if zeros else None
    readings = ((whatwg, "with leading zeros read as octal" if zeros else "as HTTP clients read it"),
                (decimal, "read as decimal"))
    for reading, how in readings:
        kind = category(reading) if reading is not None else ""
        if kind in ALWAYS_DENIED:
            return UrlRefused(f"{host} means {reading} ({how}), which is {PHRASES[kind]}; it is always blocked.",
                              category=kind)
    if zeros:
        if whatwg is not None and decimal is not None and whatwg != decimal:
            return UrlRefused(f"IPv4 addresses with leading zeros are ambiguous: {host} is {whatwg} read as octal "
                              f"but {decimal} read as decimal; write the one you mean without leading zeros.")
        if whatwg or decimal:
            return UrlRefused(f"IPv4 addresses with leading zeros are ambiguous; write {whatwg or decimal}.")
    if whatwg is not None:
        return UrlRefused(f"{host} is an unusual spelling of the IPv4 address {whatwg}; write {whatwg}.")
    return UrlRefused(f"{host!r} is not a valid IPv4 address (a host name cannot end in a number).")


def _ipv4_whatwg(labels: list[str]) -> IPv4Address | None:
    """The address browsers and getaddrinfo read (0x hex, leading-zero octal, short forms), or None."""
    if not 1 <= len(labels) <= 4:
        return None
    numbers = []
    for label in labels:
        if label[:2] in ("0x", "0X"):
            digits, base = label[2:] or "0", 16
        elif len(label) > 1 and label.startswith("0"):
            digits, base = label[1:], 8
        else:
            digits, base = label, 10
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return IPv4Address(value)


def _ipv4_decimal(labels: list[str]) -> IPv4Address | None:
    """The dotted quad read with leading zeros ignored, as a person typing it most likely meant."""
    if len(labels) != 4 or not all(label.isdigit() for label in labels):
        return None
    try:
        return IPv4Address(".".join(str(int(label)) for label in labels))
    except ValueError:
        return None


def _check_literal(host: str, ip: IPv4Address | IPv6Address, port: int, *, policy: Policy | None,
                   allowlist: Allowlist | None) -> None:
    kind = category(canonical(ip))
    if policy is None and kind not in ALWAYS_DENIED:
        return
    try:
        Guard(policy or Policy.LLM, allowlist or Allowlist()).check(host, port, [host])
    except EgressDenied as exc:
        raise UrlRefused(f"{exc}.", category=exc.category) from None


def _check_host_name(host: str) -> None:
    try:
        ascii_host = host.removesuffix(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        ascii_host = ""
    if not ascii_host or len(ascii_host) > 253 or not all(_LABEL.match(p) for p in ascii_host.split(".")):
        raise UrlRefused(f"{host!r} is not a valid host name.")


def _check_clients_accept(url: str) -> None:
    """Both HTTP stacks (httpx, and aiohttp's yarl underneath the async client) must parse it the same way."""
    try:
        parsed, other = httpx.URL(url), yarl.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError, UnicodeError) as exc:
        raise UrlRefused(f"This URL cannot be requested ({exc}).") from None
    if not parsed.raw_host or not other.host:
        raise UrlRefused("The URL has no host.")

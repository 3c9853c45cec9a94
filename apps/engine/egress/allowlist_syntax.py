"""The syntax of egress allowlist entries: a host, an IP or a CIDR, each with an optional :port.

One validator for the admin form, the settings API and the runtime parser, so all three accept
exactly the same lines.
"""

from __future__ import annotations

import ipaddress
import re

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BRACKETED = re.compile(r"^\[(?P<address>[^\]]+)\](?::(?P<port>[^:]*))?$")


def allowlist_entry_error(entry: str) -> str | None:
    """Why `entry` is not a host, IP or CIDR with an optional :port; None when it is one."""
    if "://" in entry:
        return "write only the host (and port), not a URL"
    bracketed = _BRACKETED.match(entry)
    if bracketed:
        address, port = bracketed["address"], bracketed["port"]
        if _ip_or_network_error(address) is not None or ":" not in address:
            return "brackets are only for IPv6 addresses, e.g. [fd00::1]:8080"
        return _port_error(port) if port is not None else None
    if _ip_or_network_error(entry) is None:
        return None
    if entry.count(":") > 1:
        return "an IPv6 address with a port needs brackets, e.g. [fd00::1]:8080"
    host, _, port = entry.partition(":")
    if port or entry.endswith(":"):
        problem = _port_error(port)
        if problem:
            return problem
    if re.fullmatch(r"[0-9./]+", host):
        return _ip_or_network_error(host)
    return _host_error(host)


def _ip_or_network_error(text: str) -> str | None:
    try:
        if "/" in text:
            ipaddress.ip_network(text, strict=True)
        else:
            ipaddress.ip_address(text)
    except ValueError as exc:
        return str(exc)
    return None


def _port_error(port: str) -> str | None:
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return "the port must be a number from 1 to 65535"
    return None


def _host_error(host: str) -> str | None:
    try:
        ascii_host = host.removesuffix(".").encode("idna").decode("ascii").lower()  # "lan." is fully qualified
    except UnicodeError:
        return "not a valid host name"
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return "not a host name, IP address or CIDR range"
    # A numeric last label (0x7f.1, 127.1) is an address spelling, not a name: reject it.
    if labels[-1].isdigit():
        return "not a valid IP address (write it in full, e.g. 127.0.0.1)"
    return None


def allowlist_problems(text: str) -> list[str]:
    """One message per bad line ("Line N ("entry"): why."); blank lines and `#` comments are fine."""
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = raw.split("#", 1)[0].strip()
        if entry:
            problem = allowlist_entry_error(entry)
            if problem:
                problems.append(f'Line {number} ("{entry}"): {problem}.')
    return problems

"""Trust X-Forwarded-For/-Proto only from the proxies the deployment declares (TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR.") from exc
    return tuple(networks)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a forwarded hop: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(*, peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The right-most hop no trusted proxy vouches for; the peer itself unless it is a trusted proxy."""
    current = parse_address(peer)
    if not is_trusted(current, networks):
        return peer
    # Each trusted proxy appends the address it saw, so hops left of the first untrusted one are claims.
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(address, networks):
            break
    return str(current)


def request_client_ip(request: HttpRequest) -> str | None:
    """django-axes' client address: REMOTE_ADDR as resolved by TrustedProxyMiddleware."""
    return request.META.get("REMOTE_ADDR")


class TrustedProxyMiddleware:
    """Rewrite REMOTE_ADDR from X-Forwarded-For for trusted peers; drop forwarded headers from others."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        trusted_networks(tuple(settings.TRUSTED_PROXIES))  # a bad setting fails at start-up, not per request

    def __call__(self, request: HttpRequest):
        networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if is_trusted(parse_address(peer), networks):
            meta["REMOTE_ADDR"] = client_address(
                peer=peer, forwarded_for=meta.get("HTTP_X_FORWARDED_FOR", ""), networks=networks
            )
        else:
            for header in FORWARDED_HEADERS:
                # With no proxy list, BEHIND_TLS_PROXY alone decides about -Proto (as before TRUSTED_PROXIES).
                if networks or header != "HTTP_X_FORWARDED_PROTO":
                    meta.pop(header, None)
        return self.get_response(request)

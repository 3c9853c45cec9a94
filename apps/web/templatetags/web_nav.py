"""The header's navigation: the pages this user may open, listed only once their URL name exists."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from apps.accounts.permissions import guest_access_enabled
from apps.core.types import Viewer

register = template.Library()

# (label, url name, who sees it): "all" includes guests, "user" needs a sign-in, "admin" needs is_staff.
NAV = [
    ("Dashboard", "web:dashboard", "all"),
    ("Projects", "web:projects", "all"),
    ("Endpoints", "web:endpoints", "user"),
    ("Deployments", "web:deployments", "user"),
    ("Analytics", "web:analytics", "user"),
    ("Webhooks", "web:webhooks", "user"),
    ("API keys", "accounts:api_keys", "user"),
    ("Settings", "web:settings", "admin"),
    ("Admin", "admin:index", "admin"),
]


def _allowed(user: Viewer, audience: str) -> bool:
    if audience == "admin":
        return user.is_authenticated and user.is_staff
    return user.is_authenticated or audience == "all"


@register.simple_tag(takes_context=True)
def nav_entries(context: template.Context) -> list[dict]:
    """Each entry: label, href and whether it is the current page; pages not built yet are left out."""
    request = context.get("request")
    user = context.get("user")
    if user is None or (not user.is_authenticated and not guest_access_enabled()):
        return []
    path = request.path if request else ""
    entries = []
    for label, name, audience in NAV:
        if not _allowed(user, audience):
            continue
        try:
            href = reverse(name)
        except NoReverseMatch:
            continue  # another page of issue 9 that is not wired yet
        # A section is current on its own pages too (/projects/3/ is under Projects); "/" only on itself.
        current = path == href or (href != "/" and path.startswith(href))
        entries.append({"label": label, "href": href, "current": current})
    return entries

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from apps.core.logging import register_secret
from apps.core.models import SystemSettings
from apps.core.permissions import visible_to
from apps.core.types import Id, Viewer
from apps.endpoints.models import Endpoint
from apps.engine.egress import Allowlist


def endpoint_list(*, user: Viewer) -> QuerySet[Endpoint]:
    """The user's own endpoints; nobody else's, and never a guest's."""
    return visible_to(Endpoint.objects.all(), user, guest_readable=False).order_by("label")


def endpoint_get(*, user: Viewer, endpoint_id: Id) -> Endpoint:
    return get_object_or_404(endpoint_list(user=user), pk=endpoint_id)


def endpoint_api_key(*, endpoint: Endpoint) -> str:
    """The decrypted key, registered with the log filter first so no log line can carry it."""
    key = endpoint.get_api_key()
    register_secret(key)
    return key


def allowlist_current() -> Allowlist | None:
    """The admin's egress allowlist, parsed; None when it is empty."""
    text = SystemSettings.load().egress_allowlist
    return Allowlist.parse(text) if text.strip() else None

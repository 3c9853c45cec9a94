"""Default deny: signed-in users act on their own data; guests (if enabled) may only read."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.core.models import SystemSettings


def guest_access_enabled() -> bool:
    return SystemSettings.load().allow_guest_access


class DefaultDeny(BasePermission):
    """Views opt in to guest reads with `guest_readable = True`; nothing else is open."""

    message = "Authentication required."

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        return (
            getattr(view, "guest_readable", False)
            and request.method in SAFE_METHODS
            and guest_access_enabled()
        )


class IsAdmin(BasePermission):
    message = "Administrators only."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)

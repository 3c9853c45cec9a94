"""Hashed keys (users' API keys, deployments' gateway keys): shown, never added or edited here, revocable."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

# hashed_key is deliberately absent: not shown, not editable.
KEY_FIELDS = ["prefix", "created_at", "last_used_at", "revoked_at"]


class RevocableKeyMixin:
    """For a ModelAdmin of a key model with `revoked_at`, `is_active` and a `.active()` queryset."""

    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    actions = ["revoke_selected"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj) -> bool:
        return obj.is_active

    def has_add_permission(self, request) -> bool:
        # A key is created where its raw value can be shown, once: the owner's pages or the API.
        return False

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        revoked = queryset.active().update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} key{'s' if revoked != 1 else ''}.", messages.SUCCESS)

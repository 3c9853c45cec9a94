from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from apps.accounts.models import ApiKey, User
from apps.instance.admin.base import ReadOnlyInline


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields


@admin.register(User)
class PromptLooperUserAdmin(UserAdmin):
    list_display = ["username", "email", "is_staff", "is_superuser", "is_active", "date_joined", "last_login"]
    date_hierarchy = "date_joined"
    inlines = [ApiKeyInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    date_hierarchy = "created_at"
    # hashed_key is deliberately absent: not shown, not editable.
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.is_active

    def has_add_permission(self, request) -> bool:
        # Users create keys themselves so the raw key can be shown to them, once.
        return False

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        revoked = queryset.active().update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} key{'s' if revoked != 1 else ''}.", messages.SUCCESS)

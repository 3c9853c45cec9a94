from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from apps.accounts.models import ApiKey, User
from apps.instance.admin.base import ReadOnlyInline
from apps.instance.admin.keys import KEY_FIELDS, RevocableKeyMixin


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ["name", *KEY_FIELDS]
    readonly_fields = fields


@admin.register(User)
class PromptLooperUserAdmin(UserAdmin):
    list_display = ["username", "email", "is_staff", "is_superuser", "is_active", "date_joined", "last_login"]
    date_hierarchy = "date_joined"
    inlines = [ApiKeyInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []


@admin.register(ApiKey)
class ApiKeyAdmin(RevocableKeyMixin, admin.ModelAdmin):
    list_display = ["name", "user", *KEY_FIELDS, "is_active"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    date_hierarchy = "created_at"
    fields = ["name", "user", *KEY_FIELDS]
    readonly_fields = ["user", *KEY_FIELDS]

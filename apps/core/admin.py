from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse

from apps.core.admin_forms import SystemSettingsForm
from apps.core.models import SystemSettings

admin.site.site_header = "PromptLooper settings"
admin.site.site_title = "PromptLooper settings"
admin.site.index_title = "Settings and operations"
admin.site.site_url = "/"


@admin.register(SystemSettings)
class SystemSettingsAdmin(admin.ModelAdmin):
    form = SystemSettingsForm
    autocomplete_fields = ["default_endpoint"]
    readonly_fields = ["setup_completed_at", "updated_at"]
    fieldsets = [
        ("Access", {"fields": ["allow_guest_access"]}),
        ("Defaults for new experiments", {"fields": ["default_endpoint", "default_model"]}),
        ("Limits", {"fields": ["max_concurrent_runs", "max_tokens_per_sweep", "max_calls_per_sweep"]}),
        (
            "Outbound network",
            {
                "fields": ["egress_allowlist"],
                "description": "Exceptions to the egress policy. Cloud metadata addresses stay blocked.",
            },
        ),
        ("Status", {"fields": ["setup_completed_at", "updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return not SystemSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        # A singleton has no list: go straight to its one form (created on first visit).
        return redirect(reverse("admin:core_systemsettings_change", args=[SystemSettings.load().pk]))

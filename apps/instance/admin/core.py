from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.shortcuts import redirect
from django.urls import path, reverse

from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.instance.admin.forms import ServiceAdmin, ServiceForm
from apps.instance.services import system_settings_update

_SETTINGS = [
    "allow_guest_access", "default_endpoint", "default_model", "max_concurrent_runs", "max_tokens_per_sweep",
    "max_calls_per_sweep", "egress_allowlist",
]


class OwnEndpointAutocompleteView(AutocompleteJsonView):
    """The endpoint search behind the default-endpoint picker: the signed-in admin's endpoints only."""

    def get_queryset(self):
        return super().get_queryset().filter(owner=self.request.user)


class OwnEndpointSelect(AutocompleteSelect):
    url_name = "%s:core_systemsettings_endpoint_autocomplete"


class SystemSettingsForm(ServiceForm):
    # Types only: the service checks the limits and the allowlist, as for the API.
    max_concurrent_runs = forms.IntegerField()
    max_tokens_per_sweep = forms.IntegerField()
    max_calls_per_sweep = forms.IntegerField()
    egress_allowlist = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    class Meta:
        model = SystemSettings
        fields = _SETTINGS

    def service_save(self) -> SystemSettings:
        return system_settings_update(fields={name: self.cleaned_data[name] for name in _SETTINGS})


@admin.register(SystemSettings)
class SystemSettingsAdmin(ServiceAdmin):
    form = SystemSettingsForm
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

    def get_urls(self):
        view = OwnEndpointAutocompleteView.as_view(admin_site=self.admin_site)
        own = [path("endpoint-autocomplete/", self.admin_site.admin_view(view),
                    name="core_systemsettings_endpoint_autocomplete")]
        return own + super().get_urls()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "default_endpoint":
            # The queryset is also what the form validates against: another user's endpoint is refused.
            kwargs["queryset"] = Endpoint.objects.filter(owner=request.user)
            kwargs["widget"] = OwnEndpointSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request) -> bool:
        return not SystemSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        # A singleton has no list: go straight to its one form (created on first visit).
        return redirect(reverse("admin:core_systemsettings_change", args=[SystemSettings.load().pk]))

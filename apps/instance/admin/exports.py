"""Saved configurations and export records are taken from runs; the admin browses them and renames saved ones."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from apps.exports.models import ExportRecord, SavedConfig
from apps.exports.saved_configs import saved_config_update
from apps.instance.admin.base import ReadOnlyAdmin, ReadOnlyInline, UUIDSearchMixin, admin_link, pretty_json
from apps.instance.admin.forms import ServiceAdmin, ServiceForm


class SavedConfigInline(ReadOnlyInline):
    model = SavedConfig
    fields = ["name", "score", "run", "created_at"]
    readonly_fields = fields
    related = ["run"]


class ExportRecordInline(ReadOnlyInline):
    model = ExportRecord
    fields = ["format", "experiment", "run", "created_by", "created_at"]
    readonly_fields = fields
    related = ["experiment", "run", "created_by"]


class SavedConfigAdminForm(ServiceForm):
    # Types only: the service trims and checks lengths, as when a config is saved through the API.
    name = forms.CharField(strip=False)
    notes = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    class Meta:
        model = SavedConfig
        fields = ["name", "notes"]

    def service_save(self) -> SavedConfig:
        return saved_config_update(saved_config=self.instance, name=self.cleaned_data["name"],
                                   notes=self.cleaned_data["notes"])


@admin.register(SavedConfig)
class SavedConfigAdmin(UUIDSearchMixin, ServiceAdmin):
    form = SavedConfigAdminForm
    list_display = ["name", "project", "score", "run_link", "created_at"]
    list_select_related = ["project", "run"]
    search_fields = ["name", "notes", "project__name"]
    date_hierarchy = "created_at"
    fields = ["name", "notes", "project", "run_link", "score", "config_pretty", "created_at"]
    readonly_fields = ["project", "run_link", "score", "config_pretty", "created_at"]

    def has_add_permission(self, request) -> bool:
        # A saved config is taken from a run's snapshot, not typed in.
        return False

    @admin.display(description="run")
    def run_link(self, obj: SavedConfig) -> str:
        return admin_link(obj.run)

    @admin.display(description="config")
    def config_pretty(self, obj: SavedConfig) -> str:
        return pretty_json(obj.config)


@admin.register(ExportRecord)
class ExportRecordAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = ["__str__", "project", "experiment", "run", "created_by", "created_at"]
    list_filter = ["format", "created_at"]
    list_select_related = ["project", "experiment", "run", "created_by"]
    search_fields = ["project__name", "experiment__name", "created_by__username"]
    date_hierarchy = "created_at"

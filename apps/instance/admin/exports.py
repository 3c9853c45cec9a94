"""Saved configurations and export records are taken from runs; the admin browses them."""

from __future__ import annotations

from django.contrib import admin

from apps.exports.models import ExportRecord, SavedConfig
from apps.instance.admin.base import ReadOnlyAdmin, ReadOnlyInline, UUIDSearchMixin, admin_link, pretty_json


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


@admin.register(SavedConfig)
class SavedConfigAdmin(UUIDSearchMixin, admin.ModelAdmin):
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

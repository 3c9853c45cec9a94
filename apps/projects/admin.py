from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from apps.core.admin_forms import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    admin_link,
    changelist_link,
    pretty_json,
)
from apps.experiments.models import Experiment
from apps.projects.models import ExportRecord, Project, SavedConfig


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


@admin.register(Project)
class ProjectAdmin(UUIDSearchMixin, admin.ModelAdmin):
    list_display = ["name", "owner", "experiments", "updated_at", "created_at"]
    list_filter = [("owner", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "description", "owner__username"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner"]
    fields = ["owner", "name", "description", "notes", "experiments", "created_at", "updated_at"]
    readonly_fields = ["experiments", "created_at", "updated_at"]
    inlines = [SavedConfigInline, ExportRecordInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(experiment_count=Count("experiments"))

    @admin.display(description="experiments", ordering="experiment_count")
    def experiments(self, obj: Project) -> str:
        count = getattr(obj, "experiment_count", None)
        label = f"{count} experiment{'s' if count != 1 else ''}" if count is not None else "Experiments"
        return changelist_link(Experiment, label, project__id__exact=obj.pk)


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

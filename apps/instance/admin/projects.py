from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from apps.experiments.models import Experiment
from apps.instance.admin.base import OwnerSetOnAddMixin, UUIDSearchMixin, changelist_link
from apps.instance.admin.exports import ExportRecordInline, SavedConfigInline
from apps.instance.admin.forms import ServiceAdmin, ServiceForm
from apps.projects import services
from apps.projects.models import Project

_TEXT = ["name", "description", "notes"]


class ProjectAdminForm(ServiceForm):
    # Types only: the service checks lengths and blanks, as for the API.
    name = forms.CharField(strip=False)
    description = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    notes = forms.CharField(required=False, strip=False, widget=forms.Textarea)

    class Meta:
        model = Project
        fields = ["owner", *_TEXT]

    def service_save(self) -> Project:
        fields = {name: self.cleaned_data[name] for name in _TEXT}
        if self.instance._state.adding:
            return services.project_create(owner=self.cleaned_data["owner"], **fields)
        return services.project_update(project=self.instance, **fields)


@admin.register(Project)
class ProjectAdmin(OwnerSetOnAddMixin, UUIDSearchMixin, ServiceAdmin):
    form = ProjectAdminForm
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

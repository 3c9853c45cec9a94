from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from apps.activity.models import Event
from apps.experiments import services
from apps.experiments.models import Experiment
from apps.experiments.secrets import scoring_config_masked
from apps.instance.admin.base import UUIDSearchMixin, admin_link, changelist_link, links, pretty_json
from apps.instance.admin.forms import ServiceAdmin, ServiceForm
from apps.runs.models import Run, Sweep

_EDITABLE = ["name", "description", "repeats", "budget_tokens", "budget_usd"]


class ExperimentAdminForm(ServiceForm):
    # Types only: the experiment validator checks every field, and the merged configuration, as for the API.
    name = forms.CharField(strip=False)
    description = forms.CharField(required=False, strip=False, widget=forms.Textarea)
    repeats = forms.IntegerField()
    budget_tokens = forms.IntegerField(required=False)
    budget_usd = forms.DecimalField(required=False)

    class Meta:
        model = Experiment
        fields = _EDITABLE

    def service_save(self) -> Experiment:
        experiment = self.instance
        # Staff edit on the owner's behalf, so the owner's rules apply (their endpoints, their scorer rights).
        return services.experiment_update(
            user=experiment.project.owner, experiment=experiment, partial=True,
            data={name: self.cleaned_data[name] for name in _EDITABLE},
        )


@admin.register(Experiment)
class ExperimentAdmin(UUIDSearchMixin, ServiceAdmin):
    form = ExperimentAdminForm
    list_display = ["name", "project_link", "project__owner", "status", "repeats", "runs", "updated_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["project", "project__owner"]
    search_fields = ["name", "description", "project__name", "project__owner__username"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["project"]
    # The configuration JSON is edited in the experiment builder and API; here it is shown, not edited.
    readonly_fields = [
        "project_link",
        "status",
        "related",
        "sample_preview",
        "stages_pretty",
        "scoring_pretty",
        "space_pretty",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["project_link", "name", "description", "status", "related"]}),
        ("Budget and repeats", {"fields": ["repeats", "budget_tokens", "budget_usd"]}),
        (
            "Configuration",
            {"fields": ["sample_preview", "stages_pretty", "scoring_pretty", "space_pretty"]},
        ),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project__owner").annotate(run_count=Count("runs"))

    @admin.display(description="project", ordering="project__name")
    def project_link(self, obj: Experiment) -> str:
        return admin_link(obj.project)

    @admin.display(description="runs", ordering="run_count")
    def runs(self, obj: Experiment) -> str:
        count = getattr(obj, "run_count", None)
        label = f"{count} run{'s' if count != 1 else ''}" if count is not None else "Runs"
        return changelist_link(Run, label, experiment__id__exact=obj.pk)

    @admin.display(description="related")
    def related(self, obj: Experiment) -> str:
        return links(
            self.runs(obj),
            changelist_link(Sweep, "Sweeps", experiment__id__exact=obj.pk),
            changelist_link(Event, "Timeline events", experiment__id__exact=obj.pk),
        )

    @admin.display(description="sample data")
    def sample_preview(self, obj: Experiment) -> str:
        return pretty_json(obj.sample_data, max_items=5)

    @admin.display(description="pipeline stages")
    def stages_pretty(self, obj: Experiment) -> str:
        return pretty_json(obj.pipeline_stages)

    @admin.display(description="scoring")
    def scoring_pretty(self, obj: Experiment) -> str:
        # Webhook scorer headers usually carry credentials: masked here as in the API.
        return pretty_json(scoring_config_masked(obj.scoring_config))

    @admin.display(description="parameter space")
    def space_pretty(self, obj: Experiment) -> str:
        return pretty_json(obj.parameter_space)

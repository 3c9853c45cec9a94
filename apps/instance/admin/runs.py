"""Sweeps, runs and their results are written by the engine; the admin browses them."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html

from apps.activity.models import Event
from apps.core.ids import is_uuid
from apps.instance.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    admin_link,
    changelist_link,
    links,
    pretty_json,
)
from apps.runs.models import ResponseCache, Run, Score, ScoreSummary, StageResult, Sweep


class ResultAdmin(ReadOnlyAdmin):
    """Rows that hang off one run: link back to it and to its experiment."""

    leading_fields = ("run_link", "experiment_link")

    @admin.display(description="run", ordering="run__created_at")
    def run_link(self, obj) -> str:
        return admin_link(obj.run)

    @admin.display(description="experiment")
    def experiment_link(self, obj) -> str:
        return admin_link(obj.run.experiment)


@admin.register(Sweep)
class SweepAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = [
        "__str__", "experiment_link", "kind", "status", "progress", "cache_hits", "tokens_in", "tokens_out",
        "cost_usd", "created_at", "finished_at",
    ]
    list_filter = ["status", "kind", "created_at"]
    list_select_related = ["experiment"]
    search_fields = ["experiment__name", "pause_reason"]
    date_hierarchy = "created_at"
    readonly_fields = ["experiment_link", "related", "request_pretty", "space_pretty"]
    leading_fields = ("experiment_link", "related")
    exclude = ["request", "parameter_space", "experiment"]

    @admin.display(description="experiment", ordering="experiment__name")
    def experiment_link(self, obj: Sweep) -> str:
        return admin_link(obj.experiment)

    @admin.display(description="runs done")
    def progress(self, obj: Sweep) -> str:
        return f"{obj.runs_done} / {obj.runs_total}"

    @admin.display(description="related")
    def related(self, obj: Sweep) -> str:
        return links(
            changelist_link(Run, "Runs", sweep__id__exact=obj.pk),
            changelist_link(Event, "Timeline events", sweep__id__exact=obj.pk),
        )

    @admin.display(description="request")
    def request_pretty(self, obj: Sweep) -> str:
        return pretty_json(obj.request)

    @admin.display(description="parameter space")
    def space_pretty(self, obj: Sweep) -> str:
        return pretty_json(obj.parameter_space)


class StageResultInline(ReadOnlyInline):
    model = StageResult
    max_shown = 50
    fields = ["item_id", "repeat", "stage_index", "stage_name", "model_used", "cached", "tokens_in",
              "tokens_out", "latency_ms", "error"]
    readonly_fields = fields


class ScoreInline(ReadOnlyInline):
    model = Score
    max_shown = 50
    fields = ["scorer_name", "item_id", "repeat", "value", "error", "rated_by"]
    readonly_fields = fields
    related = ["rated_by"]


@admin.register(Run)
class RunAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = [
        "__str__", "experiment_link", "sweep_link", "status", "approval", "weighted_score", "calls", "cache_hits",
        "tokens_in", "tokens_out", "cost_estimate", "duration_ms", "created_at",
    ]
    list_filter = ["status", "approval", "created_at"]
    list_select_related = ["experiment", "sweep"]
    search_fields = ["config_hash", "experiment__name", "error"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["experiment_link", "sweep_link", "related", "config_pretty"]
    leading_fields = ("experiment_link", "sweep_link", "related")
    exclude = ["experiment", "sweep", "config"]
    inlines = [ScoreInline, StageResultInline]

    @admin.display(description="experiment", ordering="experiment__name")
    def experiment_link(self, obj: Run) -> str:
        return admin_link(obj.experiment)

    @admin.display(description="sweep")
    def sweep_link(self, obj: Run) -> str:
        return admin_link(obj.sweep)

    @admin.display(description="related")
    def related(self, obj: Run) -> str:
        return links(
            changelist_link(StageResult, "All stage results", run__id__exact=obj.pk),
            changelist_link(Score, "All scores", run__id__exact=obj.pk),
            changelist_link(Event, "Timeline events", run__id__exact=obj.pk),
        )

    @admin.display(description="config")
    def config_pretty(self, obj: Run) -> str:
        return pretty_json(obj.config)


@admin.register(StageResult)
class StageResultAdmin(ResultAdmin):
    list_display = [
        "__str__", "run_link", "experiment_link", "stage_name", "model_used", "cached", "finish_reason",
        "tokens_in", "tokens_out", "latency_ms", "created_at",
    ]
    list_filter = ["cached", "finish_reason", "created_at"]
    list_select_related = ["run", "run__experiment"]
    search_fields = ["item_id", "stage_name", "model_used", "cache_key", "error"]
    date_hierarchy = "created_at"
    readonly_fields = ["run_link", "experiment_link", "prompt_pretty", "parameters_pretty"]
    exclude = ["run", "prompt_sent", "parameters"]

    @admin.display(description="prompt sent")
    def prompt_pretty(self, obj: StageResult) -> str:
        return pretty_json(obj.prompt_sent)

    @admin.display(description="parameters")
    def parameters_pretty(self, obj: StageResult) -> str:
        return pretty_json(obj.parameters)


@admin.register(Score)
class ScoreAdmin(ResultAdmin):
    list_display = ["scorer_name", "value", "item_id", "repeat", "run_link", "experiment_link", "rated_by",
                    "created_at"]
    list_filter = ["scorer_name", "created_at"]
    list_select_related = ["run", "run__experiment", "rated_by"]
    search_fields = ["scorer_name", "item_id", "error"]
    date_hierarchy = "created_at"
    readonly_fields = ["run_link", "experiment_link", "metadata_pretty"]
    exclude = ["run", "metadata"]

    @admin.display(description="metadata")
    def metadata_pretty(self, obj: Score) -> str:
        return pretty_json(obj.metadata)


@admin.register(ScoreSummary)
class ScoreSummaryAdmin(ResultAdmin):
    list_display = ["scorer_name", "mean", "ci_low", "ci_high", "n", "errored", "weight", "run_link", "updated_at"]
    list_filter = ["scorer_name"]
    list_select_related = ["run"]
    search_fields = ["scorer_name"]
    readonly_fields = ["run_link"]
    exclude = ["run"]


@admin.register(ResponseCache)
class ResponseCacheAdmin(ReadOnlyAdmin):
    # Deleting cached responses is how cache invalidation is done.
    allow_delete = True
    list_display = ["__str__", "owner", "provider", "model", "base_url", "tokens_in", "tokens_out", "latency_ms",
                    "created_at"]
    list_filter = ["provider", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["=key", "=origin_run", "model", "base_url", "owner__username"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = ["owner_link", "origin_run_link"]
    exclude = ["owner", "origin_run"]

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, obj: ResponseCache) -> str:
        return admin_link(obj.owner)

    @admin.display(description="origin")
    def origin_run_link(self, obj: ResponseCache) -> str:
        """The run whose call made the entry; a planner's own call (a proposer's, an agent's) names its
        sweep, a scorer's its kind ("judge", "embedding")."""
        origin = obj.origin_run
        if not origin:
            return "—"
        if is_uuid(origin):
            for model, what in ((Run, "run"), (Sweep, "sweep")):
                if model.objects.filter(pk=origin).exists():
                    url = reverse(f"admin:runs_{what}_change", args=[quote(origin)])
                    return format_html('{} <a href="{}">{}</a>', what, url, origin)
            return format_html("{} (deleted)", origin)
        return origin

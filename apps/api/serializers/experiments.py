"""Shapes of the experiment API. The config is validated by apps.experiments.validation, so the
input serializers here document the request body for the OpenAPI schema."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import JsonObjectField
from apps.experiments.models import Experiment
from apps.experiments.secrets import endpoint_ids_masked, scoring_config_masked
from apps.experiments.validation import MAX_AXES, MAX_BIGINT, MAX_BUDGET_USD
from apps.runs.models import Run


@extend_schema_field({"type": "array", "items": {"anyOf": [
    {"type": "string", "description": 'Shorthand for {"input": "..."}.'},
    {"type": "object", "additionalProperties": {}},
]}, "maxItems": settings.MAX_SAMPLE_ITEMS})
class _SampleData(serializers.JSONField):
    """Documents sample_data: items are objects, or strings as shorthand."""


class ExperimentUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    sample_data = _SampleData(required=False, help_text="A list of items (see the module docs).")
    pipeline_stages = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=settings.MAX_STAGES,
        help_text="1..N stages: name, endpoint, model, templates, params.")
    scoring_config = JsonObjectField(required=False, help_text='{"scorers": [{"type", "name", "weight", "options"}]}')
    parameter_space = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=MAX_AXES,
        help_text="Axes: {path, values} or {path, min, max, step|distribution}.")
    repeats = serializers.IntegerField(required=False, min_value=1, max_value=100)
    budget_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_BIGINT)
    # A JSON number, not a decimal string: the validator refuses strings.
    budget_usd = serializers.DecimalField(required=False, allow_null=True, max_digits=12, decimal_places=4,
                                          coerce_to_string=False, min_value=0, max_value=MAX_BUDGET_USD)


class ExperimentCreateInput(ExperimentUpdateInput):
    project = serializers.UUIDField(help_text="One of your projects.")


class ExperimentListOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    run_count = serializers.IntegerField(read_only=True)
    completed_run_count = serializers.IntegerField(read_only=True, help_text="Completed or served from cache.")
    best_score = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Experiment
        fields = [
            "id", "project", "project_name", "name", "description", "status", "repeats", "budget_tokens",
            "budget_usd", "run_count", "completed_run_count", "best_score", "created_at", "updated_at",
        ]


class TopRunOutput(serializers.ModelSerializer):
    tokens = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = ["id", "status", "approval", "weighted_score", "tokens", "tokens_in", "tokens_out", "cost_estimate"]

    def get_tokens(self, run: Run) -> int:
        return run.tokens_in + run.tokens_out


class RunSummaryOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    top = TopRunOutput(many=True)


class ExperimentDetailOutput(ExperimentListOutput):
    runs = serializers.SerializerMethodField()

    class Meta(ExperimentListOutput.Meta):
        fields = [
            *ExperimentListOutput.Meta.fields,
            "sample_data", "pipeline_stages", "scoring_config", "parameter_space", "runs",
        ]

    def to_representation(self, instance: Experiment) -> dict:
        data = super().to_representation(instance)
        data["scoring_config"] = scoring_config_masked(data.get("scoring_config"))
        viewer = self.context.get("viewer")
        if viewer is None or viewer.pk != instance.project.owner_id:
            data = endpoint_ids_masked(data)
        return data

    @extend_schema_field(RunSummaryOutput)
    def get_runs(self, experiment: Experiment) -> dict:
        return RunSummaryOutput(self.context["run_summary"]).data

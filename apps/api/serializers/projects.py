from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import JsonObjectField
from apps.exports.models import ExportRecord, SavedConfig
from apps.projects.models import Project
from apps.projects.services import MAX_NAME, MAX_TEXT
from apps.runs.masking import endpoints_hidden, saved_config_masked


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)
    description = serializers.CharField(
        max_length=MAX_TEXT, allow_blank=True, required=False, trim_whitespace=False
    )
    notes = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, trim_whitespace=False)


class ProjectOutput(serializers.ModelSerializer):
    experiment_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Project
        fields = ["id", "name", "description", "notes", "experiment_count", "created_at", "updated_at"]


class ExperimentSummary(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.CharField()
    run_count = serializers.IntegerField()
    best_score = serializers.FloatField(allow_null=True)
    updated_at = serializers.DateTimeField()


class ProjectDetailOutput(ProjectOutput):
    """Pass the experiment summaries (a selector's queryset) as context["experiments"]."""

    experiments = serializers.SerializerMethodField()

    class Meta(ProjectOutput.Meta):
        fields = [*ProjectOutput.Meta.fields, "experiments"]

    @extend_schema_field(ExperimentSummary(many=True))
    def get_experiments(self, project) -> list:
        return ExperimentSummary(self.context.get("experiments", []), many=True).data


class SavedConfigInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)
    config = JsonObjectField()
    run = serializers.UUIDField(required=False, allow_null=True, default=None)
    score = serializers.FloatField(min_value=0.0, max_value=1.0, required=False, allow_null=True, default=None)
    notes = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, default="")

    def validate_config(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        return value


class SavedConfigOutput(serializers.ModelSerializer):
    """Pass the reader as context["viewer"]; anyone else than the owner gets endpoint ids as None."""

    class Meta:
        model = SavedConfig
        fields = ["id", "name", "config", "run", "score", "notes", "created_at"]

    def to_representation(self, saved: SavedConfig) -> dict:
        data = super().to_representation(saved)
        if endpoints_hidden(viewer=self.context.get("viewer"), owner_id=saved.project.owner_id):
            data["config"] = saved_config_masked(data["config"])
        return data


class ExportOutput(serializers.ModelSerializer):
    experiment_name = serializers.CharField(source="experiment.name", read_only=True, default=None)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = ExportRecord
        fields = ["id", "format", "experiment", "experiment_name", "run", "created_by", "created_at"]

"""Deployments and their gateway keys; promoting a run; gateway feedback. Types only: the services check values."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.api.serializers.prompts import AbTestOutput, VersionOutput
from apps.core.fields import JsonObjectField
from apps.deployments.models import Deployment, DeploymentKey
from apps.deployments.services.deployments import MAX_VERSIONS_LIMIT

MAX_NAME = 100
MAX_TEXT = 10_000
MAX_MODEL = 200


class DeploymentInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)
    description = serializers.CharField(max_length=MAX_TEXT, allow_blank=True, required=False, trim_whitespace=False)
    endpoint = serializers.UUIDField(help_text="One of your endpoints: where the gateway forwards to.")
    model = serializers.CharField(max_length=MAX_MODEL)
    params = JsonObjectField(required=False, help_text="Inference parameters, e.g. temperature, max_tokens.")
    project = serializers.UUIDField(allow_null=True, required=False,
                                    help_text="Optional, one of your projects: its webhooks then get its events.")
    auto_track = serializers.BooleanField(
        required=False, help_text="A gateway request whose system prompt matches no version creates and activates one.")
    max_versions = serializers.IntegerField(min_value=1, max_value=MAX_VERSIONS_LIMIT, required=False,
                                            help_text="Oldest inactive versions above this many are pruned.")


class VersionBrief(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.IntegerField()


class DeploymentOutput(serializers.ModelSerializer):
    """Set `active_version` on each deployment first (the views do, in one query for a list)."""

    project_name = serializers.CharField(source="project.name", read_only=True, default=None, allow_null=True)
    endpoint = serializers.UUIDField(source="endpoint_id", read_only=True)
    endpoint_label = serializers.CharField(source="endpoint.label", read_only=True)
    active_version = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id", "name", "description", "project", "project_name", "endpoint", "endpoint_label", "model", "params",
            "auto_track", "max_versions", "revision", "active_version", "created_at", "updated_at",
        ]

    @extend_schema_field(VersionBrief(allow_null=True))
    def get_active_version(self, deployment) -> dict | None:
        version = getattr(deployment, "active_version", None)
        return VersionBrief(version).data if version else None


class DeploymentKeyInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME)


class DeploymentKeyOutput(serializers.ModelSerializer):
    class Meta:
        model = DeploymentKey
        fields = ["id", "name", "prefix", "is_active", "created_at", "last_used_at", "revoked_at"]


class DeploymentKeyCreatedOutput(DeploymentKeyOutput):
    key = serializers.CharField(help_text="The raw gateway key (plg_…), shown only in this response.")

    class Meta(DeploymentKeyOutput.Meta):
        fields = [*DeploymentKeyOutput.Meta.fields, "key"]


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "maxLength": MAX_NAME}],
                      "nullable": True})
class StageField(serializers.JSONField):
    """A stage index or name; the service checks it names a stage of the run."""

    def to_internal_value(self, data):
        if data is None or (isinstance(data, int) and not isinstance(data, bool) and data >= 0):
            return data
        if isinstance(data, str) and len(data) <= MAX_NAME:
            return data
        raise serializers.ValidationError("Give a stage index (0, 1, …) or a stage name.")


class PromoteInput(serializers.Serializer):
    deployment_id = serializers.UUIDField(help_text="One of your deployments.")
    stage = StageField(required=False, allow_null=True, default=None,
                       help_text="The stage to promote, by index or name; needed when the run has several.")
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    start_ab_test = serializers.BooleanField(
        required=False, default=False, help_text="Also create and start an A/B test: the active version vs this one.")
    ab_test_name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    activate = serializers.BooleanField(
        required=False, default=False, help_text="Make the new version active now (instead of an A/B test).")
    split = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=1_000_000), min_length=2,
                                  max_length=2, required=False, help_text="Weights [control, new]; default [50, 50].")


class PromoteOutput(serializers.Serializer):
    version = VersionOutput()
    ab_test = AbTestOutput(allow_null=True)


class FeedbackInput(serializers.Serializer):
    request_id = serializers.UUIDField(help_text="The X-PromptLooper-Request-Id header of the gateway's reply.")
    helpful = serializers.BooleanField()


class FeedbackOutput(serializers.Serializer):
    request_id = serializers.UUIDField()
    helpful = serializers.BooleanField(allow_null=True)
    success = serializers.BooleanField(help_text="The request's success, recomputed with the feedback.")

"""Prompt versions and A/B tests ("experiments" in the reference's paths). Types only: the services check values."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import JsonObjectField, PositiveFloatField
from apps.deployments.models import AbTest, AbVariant, PromptVersion
from apps.deployments.services.abtests import MAX_MIN_SAMPLES, MAX_VARIANTS, MAX_WEIGHT
from apps.deployments.services.checks import MAX_PROMPT_CHARS

MAX_NAME = 100


class VersionInput(serializers.Serializer):
    system_prompt = serializers.CharField(max_length=MAX_PROMPT_CHARS, allow_blank=True, required=False, default="",
                                          trim_whitespace=False, help_text="Required unless a user_template is given.")
    user_template = serializers.CharField(max_length=MAX_PROMPT_CHARS, allow_blank=True, required=False, default="",
                                          trim_whitespace=False, help_text="Optional; `{{ input }}` is the caller's "
                                          "last user message.")
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    model = serializers.CharField(max_length=200, allow_blank=True, required=False, default="",
                                  help_text="Overrides the deployment's model; empty inherits it.")
    params = JsonObjectField(required=False, help_text="Overrides of the deployment's parameters; empty inherits.")
    activate = serializers.BooleanField(required=False, default=False, help_text="Make it the active version now.")


class VersionOutput(serializers.ModelSerializer):
    deployment_name = serializers.CharField(source="deployment.name", read_only=True)

    class Meta:
        model = PromptVersion
        fields = [
            "id", "deployment", "deployment_name", "number", "system_prompt", "user_template", "model", "params",
            "content_hash", "description", "created_by", "source_run", "is_active", "created_at",
        ]


class ActivateInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, default="manual",
                                   help_text="Recorded in the version.activated event.")


class VersionOfDeploymentField(serializers.PrimaryKeyRelatedField):
    """A version id of the deployment in context["deployment"] (the service checks again, by its own name)."""

    default_error_messages = {"does_not_exist": "Choose a version of this deployment (no version {pk_value} in it)."}

    def get_queryset(self):
        return PromptVersion.objects.filter(deployment=self.context["deployment"])


class VariantInput(serializers.Serializer):
    name = serializers.CharField(max_length=MAX_NAME, required=False, allow_blank=True,
                                 help_text="Default: Control, Variant B, …")
    prompt_version_id = VersionOfDeploymentField(pk_field=serializers.UUIDField(),
                                                 help_text="A version of this deployment.")
    description = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    weight = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT, required=False,
                                      help_text="Its share of traffic; or give traffic_split for all variants.")


@extend_schema_field({"type": "object", "additionalProperties": False, "properties": {
    "require_non_empty": {"type": "boolean", "description": "A reply must have text (default true)."},
    "require_no_error": {"type": "boolean", "description": "No upstream error (default true)."},
    "require_no_tool_errors": {"type": "boolean", "description": "The reference's name for require_no_error."},
    "require_helpful": {"type": "boolean", "description": "Feedback must say helpful (default false)."},
    "require_user_helpful": {"type": "boolean", "description": "The reference's name for require_helpful."},
}})
class SuccessCriteriaField(serializers.JSONField):
    """What counts as a successful request; the service checks the keys."""


@extend_schema_field({"type": "object", "additionalProperties": False, "properties": {
    "max_latency_increase_pct": {"type": "number", "minimum": 0, "nullable": True, "description":
                                 "A winner slower than control by more than this keeps control (default 20, null: "
                                 "no limit)."},
    "max_cost_increase_pct": {"type": "number", "minimum": 0, "nullable": True, "description":
                              "A winner dearer than control by more than this keeps control (default 20, null: "
                              "no limit)."},
}})
class GuardrailsField(serializers.JSONField):
    """Limits a winner must stay within; the service checks them."""


class AbTestInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    variants = VariantInput(many=True, max_length=MAX_VARIANTS,
                            help_text=f"2 to {MAX_VARIANTS}; the first is the control.")
    traffic_split = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT),
                                          required=False, max_length=MAX_VARIANTS,
                                          help_text="Weights in the order of variants, e.g. [70, 30].")
    success_criteria = SuccessCriteriaField(required=False)
    alpha = PositiveFloatField(max_value=0.5, required=False, default=0.05,
                               help_text="Significance level of the sequential test (Holm over the comparisons).")
    min_samples = serializers.IntegerField(min_value=1, max_value=MAX_MIN_SAMPLES, required=False, default=100,
                                           help_text="Per variant, before a winner may be declared.")
    auto_complete = serializers.BooleanField(required=False, default=False,
                                             help_text="Complete by itself at significance after min_samples.")
    guardrails = GuardrailsField(required=False)

    def validate(self, attrs: dict) -> dict:
        split, count = attrs.get("traffic_split"), len(attrs["variants"])
        if split is not None and len(split) != count:
            raise serializers.ValidationError({"traffic_split": f"Give one weight per variant ({count})."})
        return attrs


class VariantOutput(serializers.ModelSerializer):
    prompt_version_id = serializers.UUIDField(source="version_id")
    version_number = serializers.IntegerField(source="version.number")
    is_control = serializers.BooleanField()

    class Meta:
        model = AbVariant
        fields = ["id", "name", "description", "prompt_version_id", "version_number", "weight", "position",
                  "is_control"]


class AbTestOutput(serializers.ModelSerializer):
    variants = VariantOutput(many=True, read_only=True)
    traffic_split = serializers.SerializerMethodField()
    decision = JsonObjectField(read_only=True, help_text="Set on completion: what was activated (or not) and why.")
    success_criteria = JsonObjectField(read_only=True)
    guardrails = JsonObjectField(read_only=True)

    class Meta:
        model = AbTest
        fields = [
            "id", "deployment", "name", "status", "variants", "traffic_split", "success_criteria", "alpha",
            "min_samples", "auto_complete", "guardrails", "winner", "decision", "created_by", "created_at",
            "started_at", "completed_at",
        ]

    def get_traffic_split(self, ab_test) -> list[int]:
        return [variant.weight for variant in ab_test.variants.all()]


class VariantMetricsOutput(serializers.Serializer):
    variant_id = serializers.UUIDField()
    variant_name = serializers.CharField()
    version_id = serializers.UUIDField()
    version_number = serializers.IntegerField()
    is_control = serializers.BooleanField()
    weight = serializers.IntegerField()
    total_requests = serializers.IntegerField()
    sessions = serializers.IntegerField(help_text="Distinct sessions: the units the significance test counts.")
    successful_requests = serializers.IntegerField()
    failed_requests = serializers.IntegerField()
    success_rate = serializers.FloatField(help_text="0-100.")
    avg_latency_ms = serializers.FloatField(allow_null=True)
    avg_cost_usd = serializers.FloatField(allow_null=True)
    total_cost_usd = serializers.FloatField()
    feedback_count = serializers.IntegerField()
    feedback_rate = serializers.FloatField(allow_null=True)
    helpful_rate = serializers.FloatField(allow_null=True)
    diff = serializers.FloatField(allow_null=True, help_text="Success rate minus control's, in points.")
    ci_low = serializers.FloatField(allow_null=True, help_text="Always-valid confidence sequence for diff.")
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True, help_text="Always-valid p-value: safe to watch continuously.")
    p_adjusted = serializers.FloatField(allow_null=True, help_text="p_value after Holm over the comparisons.")
    significant = serializers.BooleanField()
    ci_level = serializers.FloatField(allow_null=True, help_text="The level the interval is drawn at: its Holm alpha.")
    direction = serializers.ChoiceField(choices=["better", "worse"], allow_null=True,
                                        help_text="Read from the interval: above 0 is better, below 0 worse.")
    looks_disagree = serializers.BooleanField(help_text="Earlier looks excluded 0 on both sides: no conclusion.")

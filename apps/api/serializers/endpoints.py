from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import PositiveFloatField, UriField
from apps.endpoints import services
from apps.endpoints.models import Endpoint
from apps.experiments.endpoint_usage import NAMED_IN_USE

_PRICE = {"type": "number", "minimum": 0, "description": "USD per 1M tokens."}


@extend_schema_field({"type": "object", "maxProperties": services.MAX_PRICED_MODELS, "additionalProperties": {
    "type": "object", "properties": {"input": _PRICE, "output": _PRICE}, "required": ["input", "output"],
    "additionalProperties": False,
}})
class ModelPricesField(serializers.JSONField):
    """Prices by model name; the service checks them."""


class EndpointInput(serializers.Serializer):
    """Types and bounds only; the service checks URLs, prices and label uniqueness."""

    label = serializers.CharField(max_length=services.MAX_LABEL)
    kind = serializers.ChoiceField(choices=Endpoint.Kind.choices, required=False)
    base_url = UriField(max_length=services.MAX_URL)
    api_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=services.MAX_KEY,
        help_text='Write-only. Omit to keep the stored key, send "" to clear it.',
    )
    max_concurrency = serializers.IntegerField(min_value=1, max_value=services.MAX_CONCURRENCY, required=False)
    connect_timeout_s = PositiveFloatField(max_value=services.MAX_TIMEOUT_S, required=False)
    read_timeout_s = PositiveFloatField(max_value=services.MAX_TIMEOUT_S, required=False)
    model_prices = ModelPricesField(required=False, help_text='{"model": {"input": 0.15, "output": 0.6}}')
    is_active = serializers.BooleanField(required=False)


class EndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = [
            "id", "label", "kind", "base_url", "has_api_key", "api_key_last4", "max_concurrency",
            "connect_timeout_s", "read_timeout_s", "model_prices", "is_active", "created_at", "updated_at",
        ]


class EndpointUpdateOutput(EndpointOutput):
    api_key_cleared = serializers.SerializerMethodField(
        help_text="True when this change removed the stored key (cleared, or the URL moved to another origin)."
    )

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "api_key_cleared"]

    def get_api_key_cleared(self, endpoint) -> bool:
        return bool(self.context.get("api_key_cleared"))


class ProbeOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    models = serializers.ListField(child=serializers.CharField())
    latency_ms = serializers.IntegerField()
    error = serializers.CharField(
        allow_null=True, help_text="A short code, e.g. connection_refused, auth_rejected, redirect."
    )
    detail = serializers.CharField(allow_null=True, help_text="What went wrong, in plain words.")


class EndpointInUseOutput(serializers.Serializer):
    detail = serializers.CharField()
    experiments = serializers.ListField(
        child=serializers.CharField(), help_text=f"The first {NAMED_IN_USE} experiments using it, by name."
    )
    count = serializers.IntegerField(help_text="How many experiments use it.")

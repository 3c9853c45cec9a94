from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import JsonStringMapField, UriField
from apps.webhooks import services
from apps.webhooks.models import EVENT_TYPES, WebhookAttempt, WebhookConfig, WebhookDelivery


class WebhookInput(serializers.Serializer):
    """Types only; the service checks the URL, event types, headers, secret and project."""

    url = UriField(max_length=services.MAX_URL)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=len(EVENT_TYPES) * 2,
        help_text=f"A non-empty subset of: {', '.join(EVENT_TYPES)}.",
    )
    headers = JsonStringMapField(required=False, help_text="Header name → value; values are never returned.")
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False, max_length=services.MAX_SECRET,
        help_text="Write-only signing secret; omit it to have one generated and shown once.",
    )
    project = serializers.UUIDField(required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True, default=None, allow_null=True)
    header_names = serializers.SerializerMethodField()

    class Meta:
        model = WebhookConfig
        fields = [
            "id", "url", "event_types", "project", "project_name", "header_names",
            "has_secret", "is_active", "disabled_reason", "created_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_header_names(self, webhook) -> list[str]:
        return sorted(webhook.get_headers())


class WebhookCreatedOutput(WebhookOutput):
    secret = serializers.SerializerMethodField(
        help_text="The generated signing secret, shown only in this response (null if you chose one)."
    )

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]

    def get_secret(self, webhook) -> str | None:
        return self.context.get("generated_secret")


class WebhookAttemptOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "latency_ms", "response_excerpt", "error", "next_retry_at"]


class WebhookDeliveryOutput(serializers.ModelSerializer):
    webhook_id = serializers.UUIDField(source="webhook.pk", read_only=True)
    event_id = serializers.IntegerField(allow_null=True, read_only=True)
    attempt_log = WebhookAttemptOutput(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "webhook_id", "event_id", "event_type", "message_id", "status", "attempts", "status_code",
            "latency_ms", "response_excerpt", "last_error", "next_retry_at", "created_at", "updated_at",
            "payload", "attempt_log",
        ]

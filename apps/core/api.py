"""Admin REST endpoints (system settings, stats) and the base mixin for views that call services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from apps.accounts.permissions import IsAdmin
from apps.core.models import SystemSettings
from apps.core.stats import system_stats
from apps.endpoints.models import Endpoint
from apps.engine.egress.allowlist_syntax import allowlist_problems


class ServiceErrorsMixin:
    """Services raise Django's ValidationError; answer it as a 400 keyed by field, like a serializer."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)


def allowlist_clean(text: str) -> str:
    """Validate every line with the egress allowlist syntax; return the stripped text."""
    problems = allowlist_problems(text)
    if problems:
        raise serializers.ValidationError(problems)
    return "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n")).strip()


class OwnEndpointField(serializers.PrimaryKeyRelatedField):
    """An endpoint id that must belong to the requesting user."""

    default_error_messages = {
        "does_not_exist": "Choose one of your own endpoints (no endpoint {pk_value} of yours).",
        "blank": "Send an endpoint id, or null for none.",
    }

    def run_validation(self, data=empty):
        # DRF reads "" as null for relations; the schema documents a uuid or null, so say so instead.
        if data == "":
            self.fail("blank")
        return super().run_validation(data)

    def get_queryset(self):
        return super().get_queryset().filter(owner=self.context["request"].user)


class SystemSettingsSerializer(serializers.Serializer):
    allow_guest_access = serializers.BooleanField(required=False)
    default_endpoint = OwnEndpointField(queryset=Endpoint.objects.all(), allow_null=True, required=False)
    default_endpoint_label = serializers.CharField(
        source="default_endpoint.label", read_only=True, default=None, allow_null=True
    )
    default_model = serializers.CharField(max_length=200, allow_blank=True, required=False)
    max_concurrent_runs = serializers.IntegerField(min_value=1, max_value=1024, required=False)
    max_tokens_per_sweep = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    max_calls_per_sweep = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    egress_allowlist = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, trim_whitespace=False
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_egress_allowlist(self, value: str) -> str:
        return allowlist_clean(value)


def system_settings_update(**fields) -> SystemSettings:
    """Change only the given fields, so two admins editing different settings don't undo each other."""
    with transaction.atomic():
        SystemSettings.load()
        SystemSettings.objects.filter(pk=1).update(**fields, updated_at=timezone.now())
    return SystemSettings.objects.select_related("default_endpoint").get(pk=1)


class AdminSettingsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SystemSettingsSerializer)
    def get(self, request):
        system = SystemSettings.load()
        return Response(SystemSettingsSerializer(system).data)

    @extend_schema(request=SystemSettingsSerializer, responses=SystemSettingsSerializer)
    def put(self, request):
        data = SystemSettingsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        system = system_settings_update(**data.validated_data)
        return Response(SystemSettingsSerializer(system).data)

    @extend_schema(request=SystemSettingsSerializer, responses=SystemSettingsSerializer)
    def patch(self, request):
        return self.put(request)


class SystemStatsSerializer(serializers.Serializer):
    users = serializers.IntegerField()
    projects = serializers.IntegerField()
    experiments = serializers.IntegerField()
    runs = serializers.IntegerField()
    runs_by_status = serializers.DictField(child=serializers.IntegerField())
    sweeps_by_status = serializers.DictField(child=serializers.IntegerField())
    cache_entries = serializers.IntegerField()
    total_calls = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    cache_hit_rate = serializers.FloatField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=20, decimal_places=6)


class AdminStatsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SystemStatsSerializer)
    def get(self, request):
        return Response(SystemStatsSerializer(system_stats()).data)

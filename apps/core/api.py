"""Admin REST endpoints (system settings, stats) and the base mixin for views that call services."""

from __future__ import annotations

import ipaddress
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from apps.accounts.permissions import IsAdmin
from apps.core.models import SystemSettings
from apps.core.stats import system_stats
from apps.endpoints.models import Endpoint


class ServiceErrorsMixin:
    """Services raise Django's ValidationError; answer it as a 400 keyed by field, like a serializer."""

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)


_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")


def _split_port(entry: str) -> tuple[str, str | None]:
    if entry.startswith("["):
        host, closed, rest = entry[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("write an IPv6 address as [addr] or [addr]:port")
        return host, rest[1:] if rest else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, port
    return entry, None


def allowlist_line_problem(entry: str) -> str | None:
    """Why one allowlist entry (host, IP or CIDR, optional :port) is invalid, or None."""
    try:
        host, port = _split_port(entry)
    except ValueError as exc:
        return str(exc)
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"port {port!r} is not a number from 1 to 65535"
    if "/" in host:
        try:
            ipaddress.ip_network(host, strict=True)
        except ValueError as exc:
            return f"{host!r} is not a valid CIDR ({exc})"
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if ":" in host or not _HOSTNAME.match(host):
        return f"{host!r} is not a host name, IP address or CIDR"
    return None


def allowlist_clean(text: str) -> str:
    """Validate every line (blank lines and `#` comments allowed); return the stripped text."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    problems = []
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#"):
            continue
        problem = allowlist_line_problem(line)
        if problem:
            problems.append(f"Line {number}: {problem} (expected a host, IP or CIDR, optionally with :port).")
    if problems:
        raise serializers.ValidationError(problems)
    return "\n".join(lines).strip()


class SystemSettingsSerializer(serializers.Serializer):
    allow_guest_access = serializers.BooleanField(required=False)
    default_endpoint = serializers.PrimaryKeyRelatedField(
        queryset=Endpoint.objects.all(), allow_null=True, required=False
    )
    default_endpoint_label = serializers.CharField(source="default_endpoint.label", read_only=True, default=None)
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
        data = SystemSettingsSerializer(data=request.data)
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

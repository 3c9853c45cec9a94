from rest_framework import serializers

from apps.api.fields import OwnEndpointField
from apps.endpoints.models import Endpoint
from apps.engine.egress.allowlist_syntax import allowlist_problems
from apps.instance.services import LIMITS, MAX_LENGTHS


def _bounds(name: str) -> dict[str, int]:
    low, high = LIMITS[name]
    return {"min_value": low, "max_value": high}


class SystemSettingsSerializer(serializers.Serializer):
    allow_guest_access = serializers.BooleanField(required=False)
    default_endpoint = OwnEndpointField(queryset=Endpoint.objects.all(), allow_null=True, required=False)
    default_endpoint_label = serializers.CharField(
        source="default_endpoint.label", read_only=True, default=None, allow_null=True
    )
    # The bounds are the service's (apps.instance.services); declaring them here puts them in the schema.
    default_model = serializers.CharField(max_length=MAX_LENGTHS["default_model"], allow_blank=True, required=False)
    max_concurrent_runs = serializers.IntegerField(**_bounds("max_concurrent_runs"), required=False)
    max_tokens_per_sweep = serializers.IntegerField(**_bounds("max_tokens_per_sweep"), required=False)
    max_calls_per_sweep = serializers.IntegerField(**_bounds("max_calls_per_sweep"), required=False)
    egress_allowlist = serializers.CharField(
        max_length=MAX_LENGTHS["egress_allowlist"], allow_blank=True, required=False, trim_whitespace=False
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_egress_allowlist(self, value: str) -> str:
        # Checked here too, so a bad allowlist is reported together with the other fields' errors.
        problems = allowlist_problems(value)
        if problems:
            raise serializers.ValidationError(problems)
        return value


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

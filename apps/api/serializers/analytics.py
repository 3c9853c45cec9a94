from rest_framework import serializers

from apps.analytics.selectors import SOURCES
from apps.analytics.windows import WINDOWS


class ModelPerformanceQuery(serializers.Serializer):
    window = serializers.ChoiceField(choices=list(WINDOWS), required=False,
                                     help_text="Back from now (default 7d); leave out when giving since/until.")
    since = serializers.DateTimeField(required=False, help_text="Start (inclusive), ISO 8601.")
    until = serializers.DateTimeField(required=False, help_text="End (exclusive), ISO 8601.")
    source = serializers.ChoiceField(choices=list(SOURCES), default="all",
                                     help_text="Offline sweep calls, gateway requests, or both.")


class WindowOutput(serializers.Serializer):
    name = serializers.CharField(help_text="24h, 7d, 30d, all, or custom (since/until given).")
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class ModelStatsOutput(serializers.Serializer):
    model = serializers.CharField()
    endpoint_id = serializers.CharField(allow_null=True)
    endpoint_label = serializers.CharField()
    calls = serializers.IntegerField(help_text="Calls to the model; cache hits are counted apart.")
    sweep_calls = serializers.IntegerField()
    gateway_calls = serializers.IntegerField()
    cache_hits = serializers.IntegerField(help_text="Sweep calls answered from the response cache (free).")
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True, help_text="Percent of calls that failed (0-100).")
    avg_latency_ms = serializers.FloatField(allow_null=True, help_text="Over successful calls.")
    min_latency_ms = serializers.IntegerField(allow_null=True)
    max_latency_ms = serializers.IntegerField(allow_null=True)
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    total_cost_usd = serializers.FloatField()
    cost_per_call_usd = serializers.FloatField(allow_null=True, help_text="Null when the model has no price.")
    priced = serializers.BooleanField(help_text="The endpoint's price table names this model.")


class KpisOutput(serializers.Serializer):
    total_calls = serializers.IntegerField()
    cache_hits = serializers.IntegerField()
    errors = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    avg_latency_ms = serializers.FloatField(allow_null=True, help_text="Over every successful call.")
    fastest = ModelStatsOutput(allow_null=True, help_text="The lowest average latency.")
    cheapest = ModelStatsOutput(allow_null=True, help_text="The lowest cost per call among priced models.")
    models = serializers.IntegerField()
    unpriced = serializers.IntegerField(help_text="Models with calls but no price.")


class ModelPerformanceOutput(serializers.Serializer):
    window = WindowOutput()
    source = serializers.CharField()
    kpis = KpisOutput()
    models = ModelStatsOutput(many=True)

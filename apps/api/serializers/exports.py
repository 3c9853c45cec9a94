from rest_framework import serializers


class ExportQuery(serializers.Serializer):
    run = serializers.UUIDField(required=False, help_text="Export this run instead of the best one.")
    baseline = serializers.UUIDField(required=False, help_text="Report only: the run to diff the best against.")


class CompareQuery(serializers.Serializer):
    a = serializers.UUIDField(help_text="The first run.")
    b = serializers.UUIDField(help_text="The second run.")
    offset = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0, help_text="First item to include.")
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100, help_text="Items per page.")

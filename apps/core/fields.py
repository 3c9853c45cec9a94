"""Serializer fields that document in the OpenAPI schema what the services accept.

Validation of these values stays in the services; the fields only give them their true JSON type.
"""

from __future__ import annotations

from django.core.validators import URLValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class UriField(serializers.URLField):
    """A URL, documented as `format: uri`; the service decides which ones are allowed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Django's URLValidator refuses hosts without a dot, such as a Docker service named `ollama`.
        self.validators = [v for v in self.validators if not isinstance(v, URLValidator)]


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JsonObjectField(serializers.JSONField):
    """Any JSON object."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class JsonStringMapField(serializers.JSONField):
    """A JSON object of strings (e.g. header name → value)."""


class PositiveFloatField(serializers.FloatField):
    """A number above 0, documented as such; the service refuses 0 and below."""


class PositiveFloatFieldSchema(OpenApiSerializerFieldExtension):
    target_class = PositiveFloatField

    def map_serializer_field(self, auto_schema, direction):
        # A min_value would add an inclusive MinValueValidator, which drf-spectacular documents as inclusive.
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "minimum": 0, "exclusiveMinimum": True}

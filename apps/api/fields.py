"""REST fields that know about the requesting user."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import empty


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

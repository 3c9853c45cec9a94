"""DRF error shape: field errors stay keyed by field; everything else under `detail`.

Every service refusal (apps.core.errors.ServiceError) and Django's ValidationError are answered here,
once, so views only parse, call and render.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from apps.core.errors import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        set_rollback()
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        # Answered like a serializer's errors: a 400 keyed by field (`non_field_errors` for the rest).
        set_rollback()
        return Response(as_serializer_error(exc), status=400)
    return drf_exception_handler(exc, context)

"""DRF error shape: field errors stay keyed by field; everything else under `detail`."""

from __future__ import annotations

from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.crypto import SecretDecryptionError


def exception_handler(exc, context):
    if isinstance(exc, SecretDecryptionError):
        from rest_framework.response import Response

        return Response({"detail": str(exc)}, status=409)
    return drf_exception_handler(exc, context)

"""The only JSON parser the API uses: capped size, capped depth, no NULs or lone surrogates."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from apps.core.jsonsafety import UnsafeJSON, check_json


class RequestTooLarge(ParseError):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "request_too_large"


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"Request body is larger than the {limit} byte limit.")
        if not raw:
            return {}
        try:
            # Deep nesting can exhaust the C parser's recursion; report it as a 400.
            data = json.loads(raw.decode("utf-8"))
        except RecursionError as exc:
            raise ParseError("JSON body is nested too deeply.") from exc
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from exc
        try:
            check_json(data, max_depth=settings.MAX_JSON_DEPTH)
        except UnsafeJSON as exc:
            raise ParseError({exc.path: [exc.message]}) from exc
        return data

"""drf-spectacular hook: document the error responses every API operation can give.

The shapes are those apps/core/exceptions.py renders: `{"detail": "..."}` for a refusal, and for a
400 the field errors keyed by field name or dotted path (`{"name": ["..."]}`), with problems that
belong to no field under `detail` or `non_field_errors`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

SCHEMAS = {
    ERROR: {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "What went wrong."}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": "Messages keyed by the field (or dotted path) they are about; nested input nests them.",
        "properties": {
            "detail": {"type": "string"},
            "non_field_errors": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": {"anyOf": [{"type": "array"}, {"type": "object"}, {"type": "string"}]},
    },
}

COMMON = {
    "400": "The request is malformed or a field is invalid.",
    "401": "Not signed in, or the credentials are wrong or expired.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object among the ones you can see (or no such page).",
    "409": "The object's state does not allow this now, or a stored secret cannot be decrypted.",
}
WITH_BODY = {
    "413": "The request body is larger than the limit.",
    "415": "The request body is not JSON.",
}


def field_errors_response(description: str) -> OpenApiResponse:
    """For a view's extend_schema: a refusal other than 400 whose body is keyed by field, like a 400's."""
    return OpenApiResponse(response={"$ref": f"#/components/schemas/{FIELD_ERRORS}"}, description=description)


def _response(description: str, component: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _body_for(code: str) -> str:
    return FIELD_ERRORS if code == "400" else ERROR


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: document the common error responses, each with its JSON body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in SCHEMAS.items():
        schemas.setdefault(name, schema)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            extra = {**COMMON, **WITH_BODY} if "requestBody" in operation else COMMON
            for code, description in extra.items():
                responses.setdefault(code, _response(description, _body_for(code)))
            # A view that names an error only by its description still answers with the error body.
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    response["content"] = _response("", _body_for(code))["content"]
    return result

"""Input checks the deployment and version services share; each raises InvalidInput naming the field."""

from __future__ import annotations

from typing import Any

from apps.core.errors import InvalidInput
from apps.core.jsonsafety import UnsafeJSON, check_json
from apps.engine import params as P
from apps.engine.templating import DEFAULT_MAX_TEMPLATE_CHARS, TemplateError, template_variables

MAX_PROMPT_CHARS = DEFAULT_MAX_TEMPLATE_CHARS
MAX_MODEL_CHARS = 200
MAX_PARAMS = 50


def clean_text(field: str, value: Any, *, limit: int, required: bool = False) -> str:
    """Text of at most `limit` characters without NUL bytes or lone surrogates (stripped when required)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput.field(field, "This field is required." if required else "Must be a string.")
    if len(value) > limit:
        raise InvalidInput.field(field, f"Must be at most {limit} characters.")
    try:
        check_json(value, max_depth=1)
    except UnsafeJSON as exc:
        raise InvalidInput.field(field, f"Text {exc.message}.") from None
    return value.strip() if required else value


def clean_params(value: Any, *, field: str = "params") -> dict[str, Any]:
    """Inference parameters checked like a stage's: known ones by range, others passed on to the provider."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput.field(field, "Must be an object of parameter names to values.")
    if len(value) > MAX_PARAMS:
        raise InvalidInput.field(field, f"At most {MAX_PARAMS} parameters.")
    try:
        check_json(value, max_depth=8)
    except UnsafeJSON as exc:
        raise InvalidInput.field(field, str(exc)) from None
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, raw in value.items():
        problem = P.param_name_error(name)
        if problem is None:
            cleaned[name], problem = P.normalize_param(name, raw)
        if problem:
            errors[f"{field}.{name}"] = [problem]
    if errors:
        raise InvalidInput(errors=errors)
    return cleaned


def clean_template(field: str, value: Any, *, required: bool = False) -> str:
    """A prompt template (system prompt or user template): its syntax and resource limits are checked now."""
    text = clean_text(field, value, limit=MAX_PROMPT_CHARS, required=required)
    if text:
        try:
            template_variables(text, max_template_chars=MAX_PROMPT_CHARS)
        except TemplateError as exc:
            raise InvalidInput.field(field, exc.message) from None
    return text

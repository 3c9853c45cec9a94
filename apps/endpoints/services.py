"""Endpoint writes. The API key is encrypted at rest and bound to the base URL's origin."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from apps.core.errors import InvalidInput
from apps.core.logging import register_secret
from apps.endpoints.models import Endpoint, url_origin
from apps.endpoints.selectors import allowlist_current
from apps.engine.egress import Policy
from apps.engine.egress.urls import UrlRefused, accept_url

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_LABEL = 100
MAX_URL = 500
MAX_KEY = 4096
MAX_CONCURRENCY = 256
MAX_TIMEOUT_S = 3600.0
MAX_PRICED_MODELS = 500
_FIELDS = {
    "label", "kind", "base_url", "api_key", "max_concurrency",
    "connect_timeout_s", "read_timeout_s", "model_prices", "is_active",
}


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput.field(field, message)


def clean_base_url(value: Any) -> str:
    """An http(s) URL both HTTP clients can request, without credentials, query or fragment; no trailing slash.

    A literal address the LLM egress policy denies (cloud metadata, link-local…) is refused unless allowlisted;
    host names are checked again, resolved, on every connection.
    """
    url = str(value or "").strip()
    if not url:
        raise _fail("base_url", "This field may not be blank.")
    if len(url) > MAX_URL:
        raise _fail("base_url", f"Enter a URL of at most {MAX_URL} characters.")
    try:
        url = accept_url(url, policy=Policy.LLM, allowlist=allowlist_current())
    except UrlRefused as exc:
        raise _fail("base_url", str(exc)) from None
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise _fail("base_url", "The URL must not have a query string or fragment.")
    return url.rstrip("/")


def clean_model_prices(value: Any) -> dict[str, dict[str, float]]:
    """`{model: {"input": n, "output": n}}`, USD per 1M tokens, each n finite and ≥ 0."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("model_prices", 'Expected an object like {"model": {"input": 0.15, "output": 0.6}}.')
    if len(value) > MAX_PRICED_MODELS:
        raise _fail("model_prices", f"At most {MAX_PRICED_MODELS} models.")
    cleaned = {}
    for model, prices in value.items():
        path = f"model_prices.{model}"
        if not isinstance(model, str) or not model.strip() or len(model) > 200:
            raise _fail(path, "A model name must be 1 to 200 characters.")
        if not isinstance(prices, dict):
            raise _fail(path, 'Expected {"input": number, "output": number}.')
        extra = sorted(set(prices) - {"input", "output"})
        if extra:
            raise _fail(f"{path}.{extra[0]}", "Unknown price; use input and output.")
        for side in ("input", "output"):
            price = prices.get(side)
            if isinstance(price, bool) or not isinstance(price, (int, float)):
                raise _fail(f"{path}.{side}", "Expected a number (USD per 1M tokens).")
            if not math.isfinite(price) or price < 0:
                raise _fail(f"{path}.{side}", "Expected a finite number ≥ 0.")
        cleaned[model] = {"input": float(prices["input"]), "output": float(prices["output"])}
    return cleaned


def _clean_timeout(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(field, "Expected a number of seconds.")
    if not 0 < value <= MAX_TIMEOUT_S:
        raise _fail(field, f"Expected more than 0 and at most {MAX_TIMEOUT_S:g} seconds.")
    return float(value)


def _clean_api_key(value: Any) -> str:
    key = str(value or "").strip()
    if len(key) > MAX_KEY:
        raise _fail("api_key", f"Ensure the key has no more than {MAX_KEY} characters.")
    # The key goes into an HTTP header: printable ASCII without spaces, or nothing.
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        raise _fail("api_key", "The key must be printable ASCII without spaces.")
    return key


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - _FIELDS
    if unknown:
        raise InvalidInput(errors={field: ["Unknown field."] for field in sorted(unknown)})
    cleaned: dict[str, Any] = {}
    for field, value in fields.items():
        if field == "label":
            value = str(value or "").strip()
            if not value or len(value) > MAX_LABEL:
                raise _fail("label", f"Enter a label of 1 to {MAX_LABEL} characters.")
        elif field == "kind" and value not in Endpoint.Kind.values:
            raise _fail("kind", f"Choose one of: {', '.join(Endpoint.Kind.values)}.")
        elif field == "base_url":
            value = clean_base_url(value)
        elif field == "api_key":
            value = _clean_api_key(value)
        elif field == "max_concurrency":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
                raise _fail("max_concurrency", f"Expected a whole number from 1 to {MAX_CONCURRENCY}.")
        elif field in ("connect_timeout_s", "read_timeout_s"):
            value = _clean_timeout(field, value)
        elif field == "model_prices":
            value = clean_model_prices(value)
        elif field == "is_active":
            value = bool(value)
        cleaned[field] = value
    return cleaned


def _check_label_free(*, owner, label: str, exclude_pk=None) -> None:
    if Endpoint.objects.filter(owner=owner, label=label).exclude(pk=exclude_pk).exists():
        raise _fail("label", "You already have an endpoint with this label.")


def _save(endpoint: Endpoint, **kwargs) -> None:
    try:
        # A savepoint, so a lost race on the unique label leaves the outer transaction usable.
        with transaction.atomic():
            endpoint.save(**kwargs)
    except IntegrityError:
        raise _fail("label", "You already have an endpoint with this label.") from None


def endpoint_create(
    *,
    owner: User,
    label: str,
    base_url: str,
    kind: str = "openai",
    api_key: str = "",
    max_concurrency: int = 4,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 120.0,
    model_prices: dict | None = None,
    is_active: bool = True,
) -> Endpoint:
    """Add an LLM endpoint; the key is stored encrypted and never returned."""
    fields = _clean(
        {
            "label": label, "kind": kind, "base_url": base_url, "api_key": api_key,
            "max_concurrency": max_concurrency, "connect_timeout_s": connect_timeout_s,
            "read_timeout_s": read_timeout_s, "model_prices": model_prices, "is_active": is_active,
        }
    )
    _check_label_free(owner=owner, label=fields["label"])
    key = fields.pop("api_key")
    endpoint = Endpoint(owner=owner, **fields)
    if key:
        register_secret(key)
        endpoint.set_api_key(key)
    _save(endpoint)
    return endpoint


def endpoint_update(*, endpoint: Endpoint, **fields: Any) -> tuple[Endpoint, bool]:
    """Apply the given fields. Returns (endpoint, key_cleared).

    Without `api_key` the key is kept, `""` clears it; moving the base URL to another
    origin (scheme, host, port) without a new key clears it, so the key can't be redirected.
    """
    cleaned = _clean(fields)
    if "label" in cleaned:
        _check_label_free(owner=endpoint.owner_id, label=cleaned["label"], exclude_pk=endpoint.pk)
    had_key = endpoint.has_api_key
    key = cleaned.pop("api_key", None)
    origin_moved = "base_url" in cleaned and url_origin(cleaned["base_url"]) != endpoint.origin
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    if key:
        register_secret(key)
        endpoint.set_api_key(key)
    elif key == "" or origin_moved:
        endpoint.api_key_encrypted, endpoint.api_key_last4 = "", ""
    _save(endpoint)
    return endpoint, had_key and not endpoint.has_api_key

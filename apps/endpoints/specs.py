"""Endpoint rows → the engine's EndpointSpec (decrypting the key in one place)."""

from __future__ import annotations

from apps.core.logging import register_secret
from apps.endpoints.models import Endpoint
from apps.engine.types import EndpointSpec


def endpoint_spec(endpoint: Endpoint) -> EndpointSpec:
    key = endpoint.get_api_key()
    register_secret(key)
    return EndpointSpec(
        id=str(endpoint.pk),
        kind=endpoint.kind,
        base_url=endpoint.base_url.rstrip("/"),
        api_key=key,
        max_concurrency=endpoint.max_concurrency,
        connect_timeout_s=endpoint.connect_timeout_s,
        read_timeout_s=endpoint.read_timeout_s,
        prices=endpoint.model_prices or {},
    )


def endpoint_specs_for_configs(configs: list[dict]) -> dict[str, EndpointSpec]:
    ids = {str(stage["endpoint"]) for config in configs for stage in config["stages"]}
    return {str(e.pk): endpoint_spec(e) for e in Endpoint.objects.filter(pk__in=ids)}

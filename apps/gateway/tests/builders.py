"""Small builders for gateway tests: a deployment on the fake LLM server, its key, and a gateway to call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from apps.deployments.models import Deployment
from apps.deployments.selectors.routes import route_table_forget
from apps.deployments.services.deployments import deployment_create
from apps.deployments.services.keys import deployment_key_create
from apps.deployments.services.versions import version_create
from apps.endpoints.models import Endpoint
from apps.gateway.app import Gateway

T = TypeVar("T")
PRICES = {"ab-chat": {"input": 1.0, "output": 2.0}}


def deployment_for(user, fake_llm, *, name: str = "support-bot", model: str = "ab-chat", prompt: str | None = None,
                   **fields: Any) -> tuple[Deployment, str]:
    """A deployment forwarding to the fake server (with a first, active version if `prompt`) and a raw key."""
    endpoint = Endpoint.objects.create(owner=user, label=f"fake {name}", base_url=fake_llm.base_url,
                                       model_prices=PRICES)
    deployment = deployment_create(owner=user, name=name, endpoint=endpoint, model=model, **fields)
    if prompt is not None:
        version_create(deployment=deployment, system_prompt=prompt)
    _, raw = deployment_key_create(deployment=deployment, name="test")
    return deployment, raw


def chat(text: str = "Where is my order?", *, system: str | None = None, **extra: Any) -> dict[str, Any]:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return {"model": "anything", "messages": messages, **extra}


def run(gateway: Gateway, call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run `call(client)` against the gateway in a fresh event loop, then write its queued metrics."""

    async def main() -> T:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            try:
                return await call(client)
            finally:
                await gateway.aclose()

    return asyncio.run(main())


def post(gateway: Gateway, key: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    async def call(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/gateway/v1/chat/completions", json=body,
                                 headers={"Authorization": f"Bearer {key}", **headers})

    return run(gateway, call)


def fresh_gateway() -> Gateway:
    route_table_forget()
    return Gateway()

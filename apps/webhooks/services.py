"""Webhook writes. Headers and the signing secret are encrypted at rest and never returned."""

from __future__ import annotations

import base64
import re
import secrets
from typing import TYPE_CHECKING, Any

import httpx
from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.activity.services import events_record
from apps.core.errors import InvalidInput
from apps.core.logging import register_secret
from apps.core.types import Id
from apps.endpoints.models import url_origin
from apps.endpoints.selectors import allowlist_current
from apps.engine import egress
from apps.engine.egress.urls import UrlRefused, accept_url
from apps.projects.models import Project
from apps.webhooks.models import EVENT_TYPES, WebhookConfig

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_URL = 1000
MAX_HEADERS = 20
MAX_HEADER_VALUE = 4096
MIN_SECRET = 16
MAX_SECRET = 512
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
# Set by the delivery code itself (transport or Standard Webhooks signature); a user value would clash.
RESERVED_HEADERS = {
    "host", "content-length", "content-type", "transfer-encoding", "connection",
    "webhook-id", "webhook-timestamp", "webhook-signature",
}


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput.field(field, message)


def clean_url(value: Any) -> str:
    url = str(value or "").strip()
    if not url or len(url) > MAX_URL:
        raise _fail("url", f"Enter a URL of 1 to {MAX_URL} characters.")
    allowlist = allowlist_current()
    try:
        url = accept_url(url, policy=egress.Policy.WEBHOOK, allowlist=allowlist)
    except UrlRefused as exc:
        raise _fail("url", str(exc)) from None
    _check_egress(url, allowlist)
    return url


def _check_egress(url: str, allowlist: egress.Allowlist | None) -> None:
    """Refuse names that resolve to private, loopback or metadata addresses now; delivery checks again."""
    try:
        egress.check_url(url, policy=egress.Policy.WEBHOOK, allowlist=allowlist)
    except egress.EgressDenied as exc:
        raise _fail("url", f"Webhooks may only reach public addresses: {exc}.") from None
    except httpx.HTTPError:
        pass  # not resolvable from here right now: allowed, and checked again at delivery time


def clean_event_types(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _fail("event_types", f"Choose at least one of: {', '.join(EVENT_TYPES)}.")
    for index, event_type in enumerate(value):
        if event_type not in EVENT_TYPES:
            raise _fail(f"event_types.{index}", f"Unknown event type; choose from: {', '.join(EVENT_TYPES)}.")
    return list(dict.fromkeys(value))


def clean_headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail("headers", "Expected an object of header names to values.")
    if len(value) > MAX_HEADERS:
        raise _fail("headers", f"At most {MAX_HEADERS} headers.")
    for name, header_value in value.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise _fail(f"headers.{name}", "Not a valid HTTP header name.")
        if name.lower() in RESERVED_HEADERS:
            raise _fail(f"headers.{name}", "This header is set by PromptLooper and cannot be overridden.")
        if not isinstance(header_value, str) or len(header_value) > MAX_HEADER_VALUE:
            raise _fail(f"headers.{name}", f"Expected text of at most {MAX_HEADER_VALUE} characters.")
        if not (header_value.isascii() and header_value.isprintable()):
            raise _fail(f"headers.{name}", "Header values must be printable ASCII on one line.")
    return dict(value)


def _clean_secret(value: Any) -> str:
    secret = str(value)
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or not (secret.isascii() and secret.isprintable()):
        raise _fail("secret", f"Use {MIN_SECRET} to {MAX_SECRET} printable ASCII characters, or omit it.")
    return secret


def webhook_secret_generate() -> str:
    """A Standard Webhooks style signing secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_create(
    *,
    owner: User,
    url: str,
    event_types: list[str],
    headers: dict[str, str] | None = None,
    secret: str | None = None,
    project_id: Id | None = None,
    is_active: bool = True,
) -> tuple[WebhookConfig, str | None]:
    """Create a webhook. Returns (webhook, generated secret or None when the caller chose one)."""
    url = clean_url(url)
    event_types = clean_event_types(event_types)
    headers = clean_headers(headers)
    generated = None
    if secret is None or secret == "":
        secret = generated = webhook_secret_generate()
    secret = _clean_secret(secret)
    project = _owned_project(owner=owner, project_id=project_id)
    for value in [secret, *headers.values()]:
        register_secret(value)
    webhook = WebhookConfig(
        owner=owner, project=project, url=url, event_types=event_types, is_active=bool(is_active)
    )
    webhook.set_headers(headers)
    webhook.set_secret(secret)
    webhook.save()
    return webhook, generated


class _Keep:
    """The default of an argument whose None is a value (no project): leave the field as it is."""


KEEP = _Keep()


def _owned_project(*, owner, project_id) -> Project | None:
    if project_id is None:
        return None
    project = Project.objects.filter(pk=project_id, owner=owner).first()
    if project is None:
        raise _fail("project", "No project of yours has this id.")
    return project


def webhook_update(
    *,
    webhook: WebhookConfig,
    url: str | None = None,
    event_types: list[str] | None = None,
    headers: dict[str, str] | None = None,
    secret: str | None = None,
    project_id: Any = KEEP,
    is_active: bool | None = None,
) -> tuple[WebhookConfig, bool]:
    """Change the given fields (None keeps one). Returns (webhook, secrets_cleared).

    `headers={}` and `secret=""` clear them; moving the URL to another origin (scheme, host, port)
    clears the ones not given anew, so a secret can't be redirected to another server.
    """
    new_url = clean_url(url) if url is not None else webhook.url
    event_types = clean_event_types(event_types) if event_types is not None else None
    headers = clean_headers(headers) if headers is not None else None
    secret = _clean_secret(secret) if secret else secret
    project = _owned_project(owner=webhook.owner, project_id=project_id) if project_id is not KEEP else KEEP
    moved = url_origin(new_url) != url_origin(webhook.url)
    cleared = moved and (
        (webhook.has_secret and secret is None) or (bool(webhook.headers_encrypted) and headers is None)
    )
    if moved:
        headers = {} if headers is None else headers
        secret = "" if secret is None else secret
    for value in filter(None, [secret, *(headers or {}).values()]):
        register_secret(value)
    webhook.url = new_url
    if event_types is not None:
        webhook.event_types = event_types
    if project is not KEEP:
        webhook.project = project
    if is_active is not None:
        if is_active and not webhook.is_active:
            webhook.consecutive_failures, webhook.disabled_reason = 0, ""  # switched back on: a fresh start
        webhook.is_active = bool(is_active)
    if headers is not None:
        webhook.set_headers(headers)
    if secret is not None:
        webhook.set_secret(secret)
    webhook.save()
    return webhook, cleared


def webhook_delete(*, webhook: WebhookConfig) -> None:
    webhook.delete()


def webhook_disable(*, webhook_id: Id, reason: str) -> bool:
    """Switch a webhook off because its receiver refused it, and say so on the owner's timeline (once)."""
    with transaction.atomic():
        updated = WebhookConfig.objects.filter(pk=webhook_id, is_active=True).update(
            is_active=False, disabled_reason=reason[:300]
        )
        if updated:
            webhook = WebhookConfig.objects.get(pk=webhook_id)
            # No URL in the payload: guests with read access see every event.
            events_record(events=[Event(kind=Kind.WEBHOOK_DISABLED, owner_id=webhook.owner_id,
                                        project_id=webhook.project_id,
                                        payload={"webhook_id": str(webhook_id), "reason": reason[:300]})])
    return bool(updated)

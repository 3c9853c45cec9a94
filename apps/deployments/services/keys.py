"""Deployment keys: the gateway's credentials, shown once, stored as prefix + SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from apps.core.errors import NotFound
from apps.core.ids import canonical_uuid
from apps.core.types import Id
from apps.deployments.models import Deployment, DeploymentKey
from apps.deployments.services.checks import clean_text

KEY_PREFIX = "plg_"
TOUCH_EVERY_S = 60


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def deployment_key_create(*, deployment: Deployment, name: str) -> tuple[DeploymentKey, str]:
    """The new key row and the raw key `plg_<prefix>_<secret>`, which is never stored and shown only now."""
    label = clean_text("name", name, limit=100).strip() or "Gateway key"
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = DeploymentKey.objects.create(deployment=deployment, name=label, prefix=prefix, hashed_key=_sha256(raw))
    return key, raw


def deployment_key_revoke(*, deployment: Deployment, key_id: Id) -> DeploymentKey:
    """Revoke one of this deployment's keys (again is a no-op); NotFound for any other key."""
    pk = canonical_uuid(key_id)
    key = DeploymentKey.objects.filter(deployment=deployment, pk=pk).first() if pk else None
    if key is None:
        raise NotFound("No such key for this deployment.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        DeploymentKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at)
    return key


def deployment_for_key(*, raw: str) -> Deployment | None:
    """The deployment behind an active raw key whose owner is active, else None."""
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX):
        return None
    prefix = raw[len(KEY_PREFIX):].split("_", 1)[0]
    key = (DeploymentKey.objects.active().select_related("deployment__owner").filter(prefix=prefix).first()
           if prefix else None)
    if key is None or not hmac.compare_digest(key.hashed_key, _sha256(raw)) or not key.deployment.owner.is_active:
        return None
    now = timezone.now()
    # At most one write a minute per key, so the gateway's reads don't become writes on every request.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > TOUCH_EVERY_S:
        DeploymentKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.deployment

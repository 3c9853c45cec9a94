"""Deployment keys: the gateway's credentials, shown once, stored as prefix + SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from apps.core.errors import NotFound
from apps.core.ids import canonical_uuid
from apps.core.types import Id
from apps.deployments.models import Deployment, DeploymentKey
from apps.deployments.services.checks import clean_text

KEY_PREFIX = "plg_"
TOUCH_EVERY_S = 60
TOUCHED_MAX = 10_000  # keys remembered per process as recently touched; past it the oldest are forgotten


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


class KeyGrant(NamedTuple):
    """What an active key of an active owner grants: its deployment, and that deployment's routing stamp."""

    key_id: Any
    deployment_id: str
    stamp: tuple  # (deployment revision, endpoint updated_at), raw as the database returns them


_SENTINEL = "\x00prefix\x00"
_key_sql: tuple[str, tuple, int] | None = None
# Key id -> monotonic time of its last last_used_at write, oldest first (bounded: see _touch).
_touched: OrderedDict[str, float] = OrderedDict()
_touched_lock = threading.Lock()


def _key_query() -> tuple[str, tuple, int]:
    """The key lookup's SQL, compiled by the ORM once: compiling it costs ~25x running it."""
    global _key_sql
    if _key_sql is None:
        query = (DeploymentKey.objects.active().filter(prefix=_SENTINEL, deployment__owner__is_active=True)
                 .order_by().values_list("pk", "hashed_key", "deployment_id", "deployment__revision",
                                         "deployment__endpoint__updated_at")[:1]).query
        sql, params = query.sql_with_params()
        _key_sql = (sql, tuple(params), params.index(_SENTINEL))
    return _key_sql


def _key_row(prefix: str) -> tuple | None:
    sql, params, index = _key_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params[:index], prefix, *params[index + 1:]))
        return cursor.fetchone()


def _touch(key_id: Any, now: float) -> None:
    """Write last_used_at at most once per TOUCH_EVERY_S per key and process, so the gateway's reads stay reads."""
    key = str(key_id)
    last = _touched.get(key)
    if last is not None and now - last < TOUCH_EVERY_S:
        return
    with _touched_lock:
        _touched.pop(key, None)
        _touched[key] = now
        # Oldest first: an entry past the interval would be written again anyway, so dropping it changes
        # nothing; past TOUCHED_MAX the oldest go too (costing at most one early write each).
        while len(_touched) > TOUCHED_MAX or now - next(iter(_touched.values())) >= TOUCH_EVERY_S:
            _touched.popitem(last=False)
    DeploymentKey.objects.filter(pk=key_id).update(last_used_at=timezone.now())


def deployment_key_check(*, raw: Any, now: float | None = None) -> KeyGrant | None:
    """The grant of a raw `plg_` key that is active (not revoked) and whose owner is active, else None.

    One indexed query (the key by its unique prefix, joined to its deployment and owner); the hash is
    compared in constant time. The gateway (every request) and feedback authenticate through this.
    """
    if not isinstance(raw, str) or not raw.startswith(KEY_PREFIX):
        return None
    prefix = raw[len(KEY_PREFIX):].split("_", 1)[0]
    hit = _key_row(prefix) if prefix else None
    if hit is None or not hmac.compare_digest(hit[1], _sha256(raw)):
        return None
    key_id, _, deployment_id, revision, endpoint_updated = hit
    _touch(key_id, time.monotonic() if now is None else now)
    # A UUID is hex text on SQLite: normalised for callers; the stamp stays as read, for comparing with itself.
    return KeyGrant(key_id=key_id, deployment_id=str(uuid.UUID(str(deployment_id))),
                    stamp=(revision, endpoint_updated))


def deployment_for_key(*, raw: Any) -> Deployment | None:
    """The deployment (with its owner) behind an active raw key whose owner is active, else None."""
    grant = deployment_key_check(raw=raw)
    return (Deployment.objects.select_related("owner").filter(pk=grant.deployment_id).first()
            if grant is not None else None)

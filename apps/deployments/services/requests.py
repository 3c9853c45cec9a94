"""Gateway request metrics: the batch insert behind the gateway's writer, and user feedback on a request."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import InterfaceError, OperationalError, transaction

from apps.core.errors import InvalidInput, NotFound
from apps.core.ids import canonical_uuid
from apps.deployments.models import AbTest, AbVariant, Deployment, GatewayRequest, PromptVersion
from apps.deployments.success import recorded_success

if TYPE_CHECKING:
    from apps.accounts.models import User

log = logging.getLogger(__name__)

_OPTIONAL_FKS = (("version_id", PromptVersion), ("ab_test_id", AbTest), ("variant_id", AbVariant))
# The database is unreachable or busy: the batch is not at fault and is kept by the caller for a retry.
_UNAVAILABLE = (OperationalError, InterfaceError)


def _insert(rows: Sequence[dict[str, Any]]) -> None:
    with transaction.atomic():  # foreign keys are checked at commit: a violation raises in here
        # A request id already stored is skipped: a flush retried after a commit whose reply was lost.
        GatewayRequest.objects.bulk_create([GatewayRequest(**row) for row in rows], batch_size=500,
                                           ignore_conflicts=True)


def _insert_storable(rows: Sequence[dict[str, Any]]) -> int:
    """Insert what can be stored, halving the batch around the rows that cannot; those are logged and dropped."""
    try:
        _insert(rows)
        return len(rows)
    except _UNAVAILABLE:
        raise
    except Exception as exc:
        if len(rows) == 1:
            log.error("gateway: dropped request row %s that cannot be stored: %s: %s",
                      rows[0].get("request_id"), type(exc).__name__, str(exc)[:300])
            return 0
    half = len(rows) // 2
    return _insert_storable(rows[:half]) + _insert_storable(rows[half:])


def _existing(model: type, ids: set) -> set[str]:
    return {str(pk) for pk in model.objects.filter(pk__in=ids).values_list("pk", flat=True)} if ids else set()


def _without_dangling(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of deployments that still exist, with links to versions/tests deleted meanwhile cleared."""
    deployments = _existing(Deployment, {row["deployment_id"] for row in rows})
    kept = [dict(row) for row in rows if str(row["deployment_id"]) in deployments]
    for field, model in _OPTIONAL_FKS:
        alive = _existing(model, {row[field] for row in kept if row.get(field)})
        for row in kept:
            if row.get(field) and str(row[field]) not in alive:
                row[field] = None
    return kept


def gateway_requests_record(*, rows: Sequence[dict[str, Any]]) -> int:
    """Insert one GatewayRequest per row (model field names, `*_id` for links) in one transaction.

    One row must never hold back the others. When the batch fails (other than the database being
    unavailable: OperationalError/InterfaceError are raised, for the caller to retry the whole batch),
    links to versions/tests deleted meanwhile are cleared, rows of deleted deployments dropped, and
    the rest inserted in smaller batches around any row that still cannot be stored (logged, dropped).
    Rows whose request id is already stored are skipped. Returns the number of rows stored or skipped
    as already stored.
    """
    if not rows:
        return 0
    try:
        _insert(rows)
        return len(rows)
    except _UNAVAILABLE:
        raise
    except Exception:
        pass  # below, outside the failed transaction
    kept = _without_dangling(rows)
    stored = _insert_storable(kept)
    if stored < len(rows):
        log.warning("gateway: %d of %d request rows dropped (deleted deployment or not storable)",
                    len(rows) - stored, len(rows))
    return stored


def feedback_record(*, request_id: Any, helpful: Any, deployment: Deployment | None = None,
                    user: User | None = None) -> GatewayRequest:
    """Record whether a gateway reply was helpful and recompute its success under the test's criteria.

    Scoped to `deployment` (a gateway key) or to `user`'s deployments; anyone else's request is NotFound.
    A request is written by the gateway's batch writer within about a second of its reply; before that
    it is NotFound too.
    """
    if not isinstance(helpful, bool):
        raise InvalidInput.field("helpful", "Must be true or false.")
    pk = canonical_uuid(request_id) if isinstance(request_id, str) else None
    if pk is None:
        raise InvalidInput.field("request_id", "Must be the X-PromptLooper-Request-Id of a gateway reply.")
    rows = GatewayRequest.objects.select_related("ab_test").filter(request_id=pk)
    if deployment is not None:
        rows = rows.filter(deployment=deployment)
    elif user is not None and user.is_authenticated:
        rows = rows.filter(deployment__owner=user)
    else:
        rows = rows.none()
    row = rows.first()
    if row is None:
        raise NotFound("No such gateway request. A reply's metrics row is written within about 0.2 s of the reply: "
                       "retry if you have only just received it.")
    criteria = row.ab_test.success_criteria if row.ab_test else None
    row.helpful = helpful
    row.success = recorded_success(criteria=criteria, status_code=row.status_code, error=row.error, helpful=helpful)
    GatewayRequest.objects.filter(pk=row.pk).update(helpful=row.helpful, success=row.success)
    return row

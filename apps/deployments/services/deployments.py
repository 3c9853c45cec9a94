"""Deployment writes: create, change and delete the named consumers the gateway serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.errors import InvalidInput
from apps.core.ids import canonical_uuid
from apps.core.types import Id
from apps.deployments.models import Deployment
from apps.deployments.services.checks import MAX_MODEL_CHARS, clean_params, clean_text
from apps.deployments.services.versions import versions_prune
from apps.endpoints.models import Endpoint
from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_VERSIONS_LIMIT = 1000
UPDATABLE = frozenset({"name", "description", "endpoint", "model", "params", "project", "auto_track", "max_versions"})


def _owned(model: type[Endpoint] | type[Project], field: str, value: Any, owner_id: Any) -> Any:
    """The owner's row given a row or its id; another user's (or no such row) names `field`."""
    pk = value.pk if isinstance(value, model) else canonical_uuid(value)
    row = model.objects.filter(pk=pk, owner_id=owner_id).first() if pk else None
    if row is None:
        raise InvalidInput.field(field, f"Choose one of your {model._meta.verbose_name_plural}.")
    return row


def _clean(field: str, value: Any, owner_id: Any) -> Any:
    if field == "name":
        return clean_text("name", value, limit=100, required=True)
    if field == "description":
        return clean_text("description", value, limit=10_000)
    if field == "model":
        return clean_text("model", value, limit=MAX_MODEL_CHARS, required=True)
    if field == "params":
        return clean_params(value)
    if field == "endpoint":
        return _owned(Endpoint, "endpoint", value, owner_id)
    if field == "project":
        return None if value in (None, "") else _owned(Project, "project", value, owner_id)
    if field == "auto_track":
        if not isinstance(value, bool):
            raise InvalidInput.field("auto_track", "Must be true or false.")
        return value
    if field == "max_versions":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSIONS_LIMIT:
            raise InvalidInput.field("max_versions", f"Must be a whole number between 1 and {MAX_VERSIONS_LIMIT}.")
        return value
    raise InvalidInput.field(field, "Unknown field.")


def _name_taken(owner_id: Any, name: str, *, exclude: Id | None = None) -> bool:
    return Deployment.objects.filter(owner_id=owner_id, name=name).exclude(pk=exclude).exists()


def _name_error(name: str) -> InvalidInput:
    return InvalidInput.field("name", f"You already have a deployment named '{name}'.")


def deployment_create(
    *,
    owner: User,
    name: str,
    endpoint: Endpoint | Id,
    model: str,
    params: dict | None = None,
    project: Project | Id | None = None,
    description: str = "",
    auto_track: bool = False,
    max_versions: int = 50,
) -> Deployment:
    """A new deployment of `owner`, forwarding to one of their endpoints (and optionally in one of their projects)."""
    values = {field: _clean(field, value, owner.pk) for field, value in {
        "name": name, "description": description, "endpoint": endpoint, "model": model, "params": params,
        "project": project, "auto_track": auto_track, "max_versions": max_versions,
    }.items()}
    if _name_taken(owner.pk, values["name"]):
        raise _name_error(values["name"])
    try:
        with transaction.atomic():
            return Deployment.objects.create(owner=owner, **values)
    except IntegrityError:  # the same name created concurrently
        raise _name_error(values["name"]) from None


def deployment_update(*, deployment: Deployment, **fields: Any) -> Deployment:
    """Change some settings; bumps `revision`, so gateways pick the change up on their next request."""
    values = {field: _clean(field, value, deployment.owner_id) for field, value in fields.items()}
    if "name" in values and _name_taken(deployment.owner_id, values["name"], exclude=deployment.pk):
        raise _name_error(values["name"])
    try:
        with transaction.atomic():
            Deployment.objects.filter(pk=deployment.pk).update(
                **values, revision=F("revision") + 1, updated_at=timezone.now())
            deployment.refresh_from_db()
            if "max_versions" in values:
                versions_prune(deployment=deployment)
    except IntegrityError:
        raise _name_error(values["name"]) from None
    return deployment


def deployment_delete(*, deployment: Deployment) -> None:
    """Delete a deployment with its keys, versions, A/B tests and request log."""
    deployment.delete()

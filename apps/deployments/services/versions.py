"""Prompt versions: content-hashed, numbered per deployment, exactly one active; pruning and tracking.

Every write that creates or activates a version locks the deployment row first (`select_for_update`),
so numbering, the one-active rule and the dedup of identical content hold under concurrent writers;
the unique constraints are the backstop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, ProtectedError, Q, RestrictedError

from apps.activity.kinds import Kind
from apps.activity.services import owner_event_emit
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.deployments.models import AbTest, Deployment, PromptVersion
from apps.deployments.services.checks import MAX_MODEL_CHARS, MAX_PROMPT_CHARS, clean_params, clean_template, clean_text
from apps.engine.hashing import sha256_of

if TYPE_CHECKING:
    from apps.runs.models import Run

TRACKED_BY = "gateway"


def version_content_hash(*, system_prompt: str, user_template: str = "", model: str = "",
                         params: dict | None = None) -> str:
    """SHA-256 of the canonical JSON of what the gateway applies: identical content, identical hash."""
    return sha256_of({"system_prompt": system_prompt, "user_template": user_template, "model": model,
                      "params": params or {}})


def _locked(deployment: Deployment) -> Deployment:
    try:
        return Deployment.objects.select_for_update().get(pk=deployment.pk)
    except Deployment.DoesNotExist:
        raise NotFound("No such deployment.") from None


def _event_payload(deployment: Deployment, version: PromptVersion, **extra: Any) -> dict[str, Any]:
    return {"deployment_id": str(deployment.pk), "deployment_name": deployment.name,
            "version_id": str(version.pk), "number": version.number, **extra}


def _activate(deployment: Deployment, version: PromptVersion, *, actor: str, reason: str) -> PromptVersion:
    """Inside the caller's transaction, with the deployment row locked: deactivate, activate, bump, announce."""
    previous = (PromptVersion.objects.filter(deployment_id=deployment.pk, is_active=True)
                .exclude(pk=version.pk).values_list("pk", flat=True).first())
    if previous is not None:  # first, or the one-active constraint refuses the activation
        PromptVersion.objects.filter(pk=previous).update(is_active=False)
    PromptVersion.objects.filter(pk=version.pk).update(is_active=True)
    Deployment.objects.filter(pk=deployment.pk).update(revision=F("revision") + 1)
    version.is_active = True
    owner_event_emit(
        kind=Kind.VERSION_ACTIVATED, owner_id=deployment.owner_id, project_id=deployment.project_id,
        payload=_event_payload(deployment, version, previous_version_id=None if previous is None else str(previous),
                               reason=reason, actor=actor),
    )
    return version


def _tracked(deployment_id: Any, system_prompt: str, content_hash: str) -> bool:
    return PromptVersion.objects.filter(
        Q(content_hash=content_hash) | Q(system_prompt=system_prompt), deployment_id=deployment_id).exists()


def _create(*, deployment: Deployment, fields: dict[str, Any], activate: bool, reason: str,
            track: bool = False) -> tuple[PromptVersion | None, bool]:
    content_hash = version_content_hash(system_prompt=fields["system_prompt"], user_template=fields["user_template"],
                                        model=fields["model"], params=fields["params"])
    with transaction.atomic():
        locked = _locked(deployment)
        if track and (not locked.auto_track or _tracked(locked.pk, fields["system_prompt"], content_hash)):
            return None, False
        existing = PromptVersion.objects.filter(deployment=locked, content_hash=content_hash).first()
        if existing is not None:
            if activate and not existing.is_active:
                _activate(locked, existing, actor=fields["created_by"], reason=reason)
            return existing, False
        number = (PromptVersion.objects.filter(deployment=locked).aggregate(top=Max("number"))["top"] or 0) + 1
        try:
            with transaction.atomic():
                version = PromptVersion.objects.create(deployment=locked, number=number, content_hash=content_hash,
                                                       **fields)
        except IntegrityError:  # a writer that did not lock (or SQLite without row locks) got there first
            existing = PromptVersion.objects.filter(deployment=locked, content_hash=content_hash).first()
            if existing is None:
                raise
            return (None if track else existing), False
        owner_event_emit(
            kind=Kind.VERSION_CREATED, owner_id=locked.owner_id, project_id=locked.project_id,
            payload=_event_payload(locked, version, created_by=version.created_by,
                                   source_run_id=None if version.source_run_id is None else str(version.source_run_id)),
        )
        first = not PromptVersion.objects.filter(deployment=locked, is_active=True).exists()
        if activate or first:
            _activate(locked, version, actor=version.created_by, reason=reason if activate else "first")
        versions_prune(deployment=locked, keep=version.pk)
    return version, True


def _fields(*, system_prompt: Any, user_template: Any, description: Any, created_by: Any, model: Any,
            params: Any, source_run: Run | None) -> dict[str, Any]:
    fields = {
        "system_prompt": clean_text("system_prompt", system_prompt, limit=MAX_PROMPT_CHARS),
        "user_template": clean_template("user_template", user_template),
        "description": clean_text("description", description, limit=500),
        "created_by": str(created_by or "")[:150],
        "model": clean_text("model", model, limit=MAX_MODEL_CHARS).strip(),
        "params": clean_params(params),
        "source_run": source_run,
    }
    if not fields["system_prompt"].strip() and not fields["user_template"].strip():
        raise InvalidInput.field("system_prompt", "Enter a system prompt (or a user template).")
    return fields


def version_create(
    *,
    deployment: Deployment,
    system_prompt: str,
    user_template: str = "",
    description: str = "",
    created_by: str = "",
    model: str = "",
    params: dict | None = None,
    source_run: Run | None = None,
    activate: bool = False,
    activate_reason: str = "manual",
) -> tuple[PromptVersion, bool]:
    """A new version, or (identical content) the existing one and False; a deployment's first is activated.

    Creating prunes the oldest inactive versions above `deployment.max_versions`.
    """
    fields = _fields(system_prompt=system_prompt, user_template=user_template, description=description,
                     created_by=created_by, model=model, params=params, source_run=source_run)
    version, created = _create(deployment=deployment, fields=fields, activate=activate, reason=activate_reason)
    assert version is not None
    return version, created


def version_activate(*, version: PromptVersion, actor: str = "", reason: str = "manual") -> PromptVersion:
    """Make `version` its deployment's active one (deactivating the other in the same transaction)."""
    with transaction.atomic():
        locked = _locked(version.deployment)
        current = PromptVersion.objects.filter(pk=version.pk).values_list("is_active", flat=True).first()
        if current is None:
            raise NotFound("No such prompt version.")
        if not current:
            _activate(locked, version, actor=actor, reason=reason)
    version.is_active = True
    return version


def version_delete(*, version: PromptVersion) -> None:
    """Delete a version that is neither active nor part of an A/B test (Conflict otherwise).

    Bumps the deployment's revision: gateway processes drop the version from their routing tables.
    """
    with transaction.atomic():
        locked = _locked(version.deployment)
        row = PromptVersion.objects.filter(pk=version.pk).first()
        if row is None:
            raise NotFound("No such prompt version.")
        if row.is_active:
            raise Conflict("The active version cannot be deleted; activate another one first.")
        tests = sorted(set(row.variants.values_list("ab_test__name", "ab_test__status")))
        if tests:
            name, status = tests[0]
            action = ("pause or complete it, then delete it" if status == AbTest.Status.RUNNING
                      else "delete that test first")
            raise Conflict(f"Version {row.number} is a variant of the A/B test '{name}'; {action}.")
        try:
            with transaction.atomic():
                row.delete()
        except (RestrictedError, ProtectedError):  # a test took it up since the check
            raise Conflict(f"Version {row.number} is a variant of an A/B test.") from None
        _bump(locked)


def _bump(deployment: Deployment) -> None:
    Deployment.objects.filter(pk=deployment.pk).update(revision=F("revision") + 1)


def versions_prune(*, deployment: Deployment, keep: Any = None) -> int:
    """Delete the oldest inactive versions above `max_versions`, never the active one, one any A/B test uses
    (deleting a finished test frees its versions), nor `keep` (the version just created).

    Returns how many were deleted (bumping the revision if any were). Called after every create, in its
    transaction: with every older version pinned the deployment may stay above `max_versions` for a while.
    """
    versions = PromptVersion.objects.filter(deployment_id=deployment.pk)
    excess = versions.count() - deployment.max_versions
    if excess <= 0:
        return 0
    candidates = versions.filter(is_active=False, variants__isnull=True)
    if keep is not None:
        candidates = candidates.exclude(pk=keep)
    doomed = list(candidates.order_by("number").values_list("pk", flat=True)[:excess])
    if not doomed:
        return 0
    try:
        with transaction.atomic():
            deleted = PromptVersion.objects.filter(pk__in=doomed).delete()[1].get(PromptVersion._meta.label, 0)
    except (RestrictedError, ProtectedError):  # one joined an A/B test meanwhile: keep them all this time
        return 0
    if deleted:
        _bump(deployment)
    return deleted


def version_track(*, deployment: Deployment, system_prompt: str) -> PromptVersion | None:
    """Automatic tracking (gateway): a system prompt no version has yet becomes a new, active version.

    Returns the version created, or None when nothing was (tracking off, the prompt already tracked, or a
    prompt no version may hold). Concurrent identical requests create one version: the check repeats under
    the deployment's row lock.
    """
    if not deployment.auto_track or not isinstance(system_prompt, str) or not system_prompt.strip():
        return None
    try:  # first: a prompt PostgreSQL cannot store (NUL bytes) cannot be looked up either
        fields = _fields(system_prompt=system_prompt, user_template="", description="Tracked from a gateway request.",
                         created_by=TRACKED_BY, model="", params=None, source_run=None)
    except InvalidInput:
        return None
    if _tracked(deployment.pk, system_prompt, version_content_hash(system_prompt=system_prompt)):
        return None
    version, _ = _create(deployment=deployment, fields=fields, activate=True, reason="tracking", track=True)
    return version

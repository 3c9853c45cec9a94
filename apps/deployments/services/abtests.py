"""A/B test writes: create, start, pause, complete (activating a winner only when the data say so) and delete."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.services import owner_event_emit
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.core.ids import canonical_uuid
from apps.deployments.models import AbTest, AbVariant, Deployment, PromptVersion
from apps.deployments.selectors.abtests import SEQUENTIAL_TEST, ab_test_metrics
from apps.deployments.services.ab_decision import ab_decide, guardrails_clean
from apps.deployments.services.checks import clean_text
from apps.deployments.services.versions import version_activate
from apps.deployments.success import criteria_clean

MAX_VARIANTS = 10
MAX_WEIGHT = 10_000
MAX_MIN_SAMPLES = 10_000_000
# A running auto-complete test is re-checked at most this often per process: the check aggregates its rows.
AUTO_COMPLETE_EVERY_S = 5.0
_last_checked: dict[str, float] = {}
Status = AbTest.Status


def _variant_default_name(position: int) -> str:
    return "Control" if position == 0 else f"Variant {chr(ord('A') + position)}"


def _clean_variant(index: int, raw: Any, versions: Mapping[str, PromptVersion]) -> dict[str, Any]:
    field = f"variants.{index}"
    if not isinstance(raw, Mapping):
        raise InvalidInput.field(field, "Give an object with name, version and weight.")
    unknown = set(raw) - {"name", "version", "weight", "description"}
    if unknown:
        raise InvalidInput.field(f"{field}.{sorted(unknown)[0]}", "Unknown field.")
    name = raw.get("name") or _variant_default_name(index)
    cleaned = {"name": clean_text(f"{field}.name", name, limit=100, required=True),
               "description": clean_text(f"{field}.description", raw.get("description", ""), limit=500)}
    version = raw.get("version")
    version = versions.get(canonical_uuid(version.pk if isinstance(version, PromptVersion) else version) or "")
    if version is None:
        raise InvalidInput.field(f"{field}.version", "Choose a version of this deployment.")
    weight = raw.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise InvalidInput.field(f"{field}.weight", f"Give a whole number from 1 to {MAX_WEIGHT}.")
    return {**cleaned, "version": version, "weight": weight}


def _clean_variants(deployment: Deployment, variants: Any) -> list[dict[str, Any]]:
    if not isinstance(variants, Sequence) or isinstance(variants, str) or not 2 <= len(variants) <= MAX_VARIANTS:
        raise InvalidInput.field("variants", f"Choose 2 to {MAX_VARIANTS} versions to compare.")
    versions = {str(version.pk): version for version in PromptVersion.objects.filter(deployment=deployment)}
    cleaned = [_clean_variant(index, raw, versions) for index, raw in enumerate(variants)]
    for index, variant in enumerate(cleaned):
        earlier = cleaned[:index]
        if any(other["version"].pk == variant["version"].pk for other in earlier):
            raise InvalidInput.field(f"variants.{index}.version", "Each variant needs a different version.")
        if any(other["name"] == variant["name"] for other in earlier):
            raise InvalidInput.field(f"variants.{index}.name", "Each variant needs a different name.")
    return cleaned


def _clean_settings(alpha: Any, min_samples: Any, auto_complete: Any) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha <= 0.5:
        raise InvalidInput.field("alpha", "Give a significance level above 0 and at most 0.5, e.g. 0.05.")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or not 1 <= min_samples <= MAX_MIN_SAMPLES:
        raise InvalidInput.field("min_samples", f"Give a whole number of requests per variant, 1 to {MAX_MIN_SAMPLES}.")
    if not isinstance(auto_complete, bool):
        raise InvalidInput.field("auto_complete", "Must be true or false.")


def ab_test_create(
    *,
    deployment: Deployment,
    name: str,
    variants: list[dict[str, Any]],
    success_criteria: dict[str, Any] | None = None,
    alpha: float = 0.05,
    min_samples: int = 100,
    auto_complete: bool = False,
    guardrails: dict[str, Any] | None = None,
    created_by: str = "",
) -> AbTest:
    """A draft A/B test over 2+ distinct versions of `deployment`; the first variant is the control."""
    name = clean_text("name", name, limit=200, required=True)
    cleaned = _clean_variants(deployment, variants)
    criteria = criteria_clean(success_criteria)
    limits = guardrails_clean(guardrails)
    _clean_settings(alpha, min_samples, auto_complete)
    with transaction.atomic():
        ab_test = AbTest.objects.create(
            deployment=deployment, name=name, success_criteria=criteria, alpha=float(alpha), min_samples=min_samples,
            auto_complete=auto_complete, guardrails=limits, created_by=str(created_by or "")[:150])
        AbVariant.objects.bulk_create(
            AbVariant(ab_test=ab_test, position=position, **variant) for position, variant in enumerate(cleaned))
    return ab_test


def _locked(ab_test: AbTest) -> AbTest:
    """The test re-read under a row lock, so two concurrent transitions cannot both pass the status check."""
    fresh = AbTest.objects.select_for_update().select_related("deployment").get(pk=ab_test.pk)
    return fresh


def _bump(deployment: Deployment) -> None:
    Deployment.objects.filter(pk=deployment.pk).update(revision=F("revision") + 1)


def _emit(kind: Kind, ab_test: AbTest, actor: str, **extra: Any) -> None:
    deployment = ab_test.deployment
    owner_event_emit(kind=kind, owner_id=deployment.owner_id, project_id=deployment.project_id, payload={
        "deployment_id": str(deployment.pk), "deployment_name": deployment.name,
        "ab_test_id": str(ab_test.pk), "ab_test_name": ab_test.name, "actor": actor, **extra})


def _sync(target: AbTest, source: AbTest) -> AbTest:
    for field in ("status", "started_at", "completed_at", "winner_id", "decision"):
        setattr(target, field, getattr(source, field))
    return target


def ab_test_start(*, ab_test: AbTest, actor: str = "") -> AbTest:
    """Start (or resume) routing traffic to the variants; only one test of a deployment runs at a time."""
    with transaction.atomic():
        fresh = _locked(ab_test)
        if fresh.status not in (Status.DRAFT, Status.PAUSED):
            raise Conflict(f"This A/B test is {fresh.get_status_display().lower()}; "
                           "only a draft or paused test can start.")
        running = AbTest.objects.filter(deployment_id=fresh.deployment_id, status=Status.RUNNING).exclude(pk=fresh.pk)
        other = running.first()
        if other is not None:
            raise _running_conflict(other.name)
        fresh.status = Status.RUNNING
        fresh.started_at = fresh.started_at or timezone.now()
        try:
            with transaction.atomic():
                fresh.save(update_fields=["status", "started_at"])
        except IntegrityError:  # another test of this deployment started at the same moment
            raise _running_conflict(running.values_list("name", flat=True).first() or "another test") from None
        _bump(fresh.deployment)
        _emit(Kind.AB_STARTED, fresh, actor)
    return _sync(ab_test, fresh)


def _running_conflict(name: str) -> Conflict:
    return Conflict(f"The A/B test '{name}' is already running on this deployment; pause or complete it first.")


def ab_test_pause(*, ab_test: AbTest, actor: str = "") -> AbTest:
    """Stop routing traffic to the variants (the active version serves everyone); metrics are kept."""
    with transaction.atomic():
        fresh = _locked(ab_test)
        if fresh.status != Status.RUNNING:
            raise Conflict(f"This A/B test is {fresh.get_status_display().lower()}; only a running test can pause.")
        fresh.status = Status.PAUSED
        fresh.save(update_fields=["status"])
        _bump(fresh.deployment)
        _emit(Kind.AB_PAUSED, fresh, actor)
    return _sync(ab_test, fresh)


def ab_test_complete(*, ab_test: AbTest, actor: str = "") -> AbTest:
    """End a running or paused test: activate the winner if one is significantly better and within guardrails.

    Otherwise nothing is activated and `decision["reason"]` says why. A draft has no data and cannot complete.
    """
    with transaction.atomic():
        fresh = _locked(ab_test)
        if fresh.status not in (Status.RUNNING, Status.PAUSED):
            raise Conflict(f"This A/B test is {fresh.get_status_display().lower()}; "
                           "only a running or paused test can complete.")
        metrics = ab_test_metrics(ab_test=fresh)
        guardrails = guardrails_clean(fresh.guardrails)
        active = (PromptVersion.objects.filter(deployment_id=fresh.deployment_id, is_active=True)
                  .values("pk", "number").first())
        verdict = ab_decide(metrics=metrics, min_samples=fresh.min_samples, guardrails=guardrails,
                            active_number=None if active is None else active["number"])
        winner = next((v for v in fresh.variants.select_related("version")
                       if str(v.pk) == verdict["winner_variant_id"]), None)
        activated = winner is not None and not winner.version.is_active
        if activated:
            version_activate(version=winner.version, actor=actor, reason="ab_test")
            active = {"pk": winner.version.pk, "number": winner.version.number}
        now = timezone.now()
        fresh.decision = {
            **verdict, "activated": activated, "alpha": fresh.alpha, "min_samples": fresh.min_samples,
            "guardrails": guardrails, **SEQUENTIAL_TEST, "variants": metrics, "actor": actor,
            "decided_at": now.isoformat(),
            # what serves after the decision: the winner, or whatever was active (control, or a version
            # activated while the test ran: a no-winner completion never re-activates control)
            "active_version_id": None if active is None else str(active["pk"]),
            "active_version_number": None if active is None else active["number"],
        }
        fresh.status, fresh.completed_at, fresh.winner = Status.COMPLETED, now, winner
        fresh.save(update_fields=["status", "completed_at", "winner", "decision"])
        _bump(fresh.deployment)
        _emit(Kind.AB_COMPLETED, fresh, actor, winner_variant_id=verdict["winner_variant_id"],
              winner_version_id=verdict["winner_version_id"], activated=activated, reason=verdict["reason"],
              decision=fresh.decision)
    return _sync(ab_test, fresh)


def ab_test_delete(*, ab_test: AbTest) -> None:
    """Delete a test that is not running (its variants go with it; its requests stay, unassigned to a test).

    Frees its versions for deletion and pruning. A running test must be paused or completed first (Conflict).
    """
    with transaction.atomic():
        try:
            fresh = _locked(ab_test)
        except AbTest.DoesNotExist:
            raise NotFound("No such A/B test.") from None
        if fresh.status == Status.RUNNING:
            raise Conflict("This A/B test is running; pause or complete it before deleting it.")
        fresh.delete()
        _bump(fresh.deployment)
    _last_checked.pop(str(ab_test.pk), None)


def _ready(metrics: Sequence[Mapping[str, Any]], min_samples: int) -> bool:
    """Every variant has its samples and some comparison is significant (better or worse: either ends it)."""
    return (all(row["total_requests"] >= min_samples for row in metrics)
            and any(row["significant"] for row in metrics[1:]))


def ab_tests_auto_complete(*, ab_test_ids: Iterable[Any]) -> list[AbTest]:
    """Complete those of these tests that auto-complete, are running and have reached their samples and significance.

    Called after every metrics flush: one query when none of them auto-completes; a candidate's metrics
    are aggregated at most every AUTO_COMPLETE_EVERY_S seconds per process.
    """
    ids = {key for key in (canonical_uuid(value) for value in ab_test_ids) if key}
    if not ids:
        return []
    candidates = list(AbTest.objects.filter(pk__in=ids, status=Status.RUNNING, auto_complete=True)
                      .select_related("deployment"))
    completed = []
    now = time.monotonic()
    for ab_test in candidates:
        key = str(ab_test.pk)
        if now - _last_checked.get(key, -AUTO_COMPLETE_EVERY_S) < AUTO_COMPLETE_EVERY_S:
            continue
        if len(_last_checked) > 10_000:  # tests completed elsewhere leave entries behind
            _last_checked.clear()
        _last_checked[key] = now
        if not _ready(ab_test_metrics(ab_test=ab_test), ab_test.min_samples):
            continue
        try:
            completed.append(ab_test_complete(ab_test=ab_test, actor="auto-complete"))
        except Conflict:
            continue  # completed or paused by someone else meanwhile
        _last_checked.pop(key, None)
    return completed

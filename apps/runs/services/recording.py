"""The driver's database side: claim runs with leases, write results idempotently, keep totals.

Every function here is synchronous and called from the driver's single database thread.
Tokens and cost are counted from stored StageResults only, so a retried or re-claimed run is
never counted twice; sweep totals are recomputed from runs, never incremented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.services import event_build, event_emit, events_record
from apps.core.types import Id
from apps.engine.pipeline import CachedCall, CallResult, PipelineOutcome
from apps.engine.types import EndpointSpec
from apps.runs.models import ResponseCache, Run, StageResult, Sweep
from apps.runs.services.calibration import prompt_chars
from apps.runs.services.scoring import best_decide, experiment_best, scores_store_many
from apps.runs.services.transitions import sweep_transition

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

LEASE = timedelta(seconds=60)
CACHED_CALL_FIELDS = ("response", "tokens_in", "tokens_out", "latency_ms", "finish_reason", "origin_run")


@dataclass
class ClaimedRun:
    id: str
    config: dict
    position: int
    sample_ids: list[str] | None = None  # a subset of the sweep's items (a halving rung); None: all of them


def runs_claim(*, sweep_id: Id, owner: str, limit: int, experiment: Experiment | None = None) -> list[ClaimedRun]:
    """Lease up to `limit` runs that are pending or whose lease expired (a dead driver's).

    With `experiment`, a `run.started` event is written for each claimed run.
    """
    if limit <= 0:
        return []
    now = timezone.now()
    with transaction.atomic():
        qs = (
            Run.objects.filter(sweep_id=sweep_id)
            .filter(Q(status=Run.Status.PENDING) | Q(status=Run.Status.RUNNING, lease_expires_at__lt=now))
            .order_by("position")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Run.objects.filter(id__in=ids).update(
            status=Run.Status.RUNNING, lease_owner=owner, lease_expires_at=now + LEASE,
            attempts=F("attempts") + 1, started_at=Coalesce(F("started_at"), now),
        )
        rows = list(Run.objects.filter(id__in=ids, lease_owner=owner)
                    .values("id", "config", "position", "attempts", "sample_ids"))
        if experiment is not None:
            events_record(events=[
                event_build(kind=Kind.RUN_STARTED, experiment=experiment, sweep=sweep_id, run_id=r["id"],
                            payload={"run_id": str(r["id"]), "attempt": r["attempts"]})
                for r in rows
            ])
    return [ClaimedRun(id=str(r["id"]), config=r["config"], position=r["position"], sample_ids=r["sample_ids"])
            for r in rows]


def foreign_lease_wait(*, sweep_id: Id, owner: str) -> float | None:
    """Seconds until the earliest lease held by another driver on this sweep expires; None if none."""
    earliest = (Run.objects.filter(sweep_id=sweep_id, status=Run.Status.RUNNING).exclude(lease_owner=owner)
                .order_by("lease_expires_at").values_list("lease_expires_at", flat=True).first())
    if earliest is None:
        return None
    return max(0.0, (earliest - timezone.now()).total_seconds())


def leases_renew(*, sweep_id: Id, owner: str, run_ids: list[str]) -> None:
    now = timezone.now()
    Sweep.objects.filter(pk=sweep_id).update(driver_heartbeat_at=now)
    if run_ids:
        Run.objects.filter(id__in=run_ids, lease_owner=owner, status=Run.Status.RUNNING).update(
            lease_expires_at=now + LEASE
        )


# A finished call waiting to be stored: (the run that made it, its endpoint, the call).
FreshCall = tuple[str, EndpointSpec, CallResult]


def cache_get_many(*, owner_id: str, keys: list[str]) -> dict[str, CachedCall]:
    """The owner's cached calls among `keys` (keys already embed the owner; filtered again regardless)."""
    rows = ResponseCache.objects.lookup(owner_id=owner_id, keys=keys, fields=CACHED_CALL_FIELDS)
    return {key: CachedCall(*values) for key, values in rows.items()}


def _run_status(outcome: PipelineOutcome) -> str:
    if outcome.failed_items:
        return Run.Status.FAILED
    if outcome.results and all(r.cached for r in outcome.results):
        return Run.Status.CACHED
    return Run.Status.COMPLETED


def calls_cache_store(*, owner_id: str, calls: list[FreshCall]) -> None:
    """Store finished calls as cache entries of `owner_id`, each remembering the run that made it."""
    if calls:
        ResponseCache.objects.bulk_create(
            [ResponseCache(key=r.cache_key, owner_id=owner_id, provider=endpoint.kind, base_url=endpoint.base_url,
                           model=r.model, response=r.text, finish_reason=r.finish_reason, tokens_in=r.tokens_in,
                           tokens_out=r.tokens_out, prompt_chars=prompt_chars(r.messages), latency_ms=r.latency_ms,
                           origin_run=run_id)
             for run_id, endpoint, r in calls],
            ignore_conflicts=True, batch_size=500,
        )


def outcomes_record(*, sweep: Sweep, experiment: Experiment, owner: str,
                    finished: list[tuple[ClaimedRun, PipelineOutcome, int, list]], stopping: str | None,
                    calls: list[FreshCall], cache_owner: str,
                    specs: list | None = None, best: dict | None = None) -> list[str]:
    """Store finished calls and finished runs in one transaction; returns the kinds of events written.

    `calls` are every fresh call since the last flush, finished runs' calls among them (see
    `calls_cache_store`); `stopping` is None, "paused" (interrupted runs go back to pending) or
    "stopped" (cancelled).
    """
    now = timezone.now()
    events = []
    kinds: list[str] = []
    best = best if best is not None else experiment_best(experiment=experiment)
    with transaction.atomic():
        calls_cache_store(owner_id=cache_owner, calls=calls)
        stage_rows: list[StageResult] = []
        scored: list[tuple[str, list[dict]]] = []
        completed: list[tuple[str, str, int, str]] = []
        for run, outcome, duration_ms, scores in finished:
            owned = Run.objects.filter(id=run.id, lease_owner=owner, status=Run.Status.RUNNING)
            if outcome.interrupted:
                if stopping == "stopped":
                    owned.update(status=Run.Status.CANCELLED, completed_at=now, lease_owner="", lease_expires_at=None)
                else:
                    owned.update(status=Run.Status.PENDING, lease_owner="", lease_expires_at=None)
                continue
            status = _run_status(outcome)
            paid = [r for r in outcome.results if not r.cached]
            error = ""
            if outcome.failed_items:
                first = next(r.error for r in outcome.results if r.error)
                error = (f"{len(outcome.failed_items)} item run(s) failed: "
                         f"{', '.join(outcome.failed_items[:5])}. {first}")
            updated = owned.update(
                status=status, completed_at=now, duration_ms=duration_ms, lease_owner="", lease_expires_at=None,
                calls=len(outcome.results), cache_hits=sum(1 for r in outcome.results if r.cached),
                tokens_in=sum(r.tokens_in for r in paid), tokens_out=sum(r.tokens_out for r in paid),
                cost_estimate=Decimal(str(round(sum(r.cost_usd for r in paid), 6))), error=error[:4000],
                items_scored=len({r.item_id for r in outcome.results}),
            )
            if updated != 1:
                continue  # the lease was lost to another driver; its result wins
            stage_rows.extend(
                StageResult(run_id=run.id, item_id=r.item_id, repeat=r.repeat, stage_index=r.stage_index,
                            stage_name=r.stage_name, prompt_sent=r.messages, response_raw=r.text,
                            model_used=r.model, parameters=r.params, cache_key=r.cache_key, cached=r.cached,
                            finish_reason=r.finish_reason, tokens_in=r.tokens_in, tokens_out=r.tokens_out,
                            latency_ms=r.latency_ms, error=r.error[:4000])
                for r in outcome.results
            )
            scored.append((run.id, scores or []))
            completed.append((run.id, status, duration_ms, error, run.sample_ids is not None))
        StageResult.objects.bulk_create(stage_rows, ignore_conflicts=True, batch_size=500)
        weighted = scores_store_many(entries=scored, specs=specs) if specs else {}
        for run_id, status, duration_ms, error, partial in completed:
            kind = {Run.Status.FAILED: Kind.RUN_FAILED,
                    Run.Status.CACHED: Kind.RUN_CACHED}.get(status, Kind.RUN_COMPLETED)
            payload = {"run_id": run_id, "status": status, "duration_ms": duration_ms,
                       "weighted_score": weighted.get(run_id)}
            if error:
                payload["error"] = error[:500]
            events.append(event_build(kind=kind, experiment=experiment, sweep=sweep, run_id=run_id, payload=payload))
            kinds.append(kind)
            # "New best" is decided once, as each run completes, against the best seen so far; a run on
            # some of the items (a halving rung) competes only within its sweep, never for the best.
            # Above the best, a run is compared with it paired by item: new best only when significantly better.
            verdict = best_decide(run_id=run_id, weighted=None if partial else weighted.get(run_id),
                                  experiment=experiment, sweep=sweep, best=best, batch=[c[0] for c in completed])
            if verdict is not None:
                events.append(verdict)
                kinds.append(verdict.kind)
        events_record(events=events)
    return kinds


def sweep_refresh_totals(*, sweep_id: Id) -> Sweep:
    t = Run.objects.filter(sweep_id=sweep_id).totals()
    totals = {"runs_total": t["runs"], "runs_done": t["terminal"], "cache_hits": t["cache_hits"],
              "tokens_in": t["tokens_in"], "tokens_out": t["tokens_out"], "cost_usd": t["cost"]}
    # Calls a planner makes itself (a prompt proposer, an agent's LLM) count against the sweep too.
    request = Sweep.objects.filter(pk=sweep_id).values_list("request", flat=True).first() or {}
    usage = request.get("planner_usage") or {}
    totals["tokens_in"] += usage.get("tokens_in", 0)
    totals["tokens_out"] += usage.get("tokens_out", 0)
    totals["cost_usd"] = (totals["cost_usd"] or 0) + Decimal(str(usage.get("cost_usd", 0)))
    Sweep.objects.filter(pk=sweep_id).update(**totals, driver_heartbeat_at=timezone.now())
    return Sweep.objects.get(pk=sweep_id)


def sweep_finish_if_done(*, sweep_id: Id, experiment: Experiment) -> bool:
    """Complete the sweep when every run is terminal; exactly one caller emits the event."""
    with transaction.atomic():
        # Locked before counting, so a redirect cannot add runs between the count and the completion.
        list(Sweep.objects.select_for_update().filter(pk=sweep_id).values_list("pk"))
        if Run.objects.filter(sweep_id=sweep_id).unfinished().exists():
            return False
        if sweep_transition(sweep_id=sweep_id, to=Sweep.Status.COMPLETED, finished_at=timezone.now()) is not None:
            sweep = sweep_refresh_totals(sweep_id=sweep_id)
            event_emit(kind=Kind.SWEEP_COMPLETED, experiment=experiment, sweep=sweep, payload={
                "runs": sweep.runs_total, "tokens_in": sweep.tokens_in, "tokens_out": sweep.tokens_out,
                "cost_usd": str(sweep.cost_usd), "cache_hits": sweep.cache_hits,
            })
    return True


def sweep_check_budget(*, sweep: Sweep, experiment: Experiment, global_tokens: int) -> str | None:
    """Pause the sweep when a token or USD budget is reached; returns the reason if it paused."""
    limits = [v for v in (sweep.budget_tokens, global_tokens or None) if v]
    used = sweep.tokens_in + sweep.tokens_out
    reason = None
    if limits and used >= min(limits):
        reason = f"token budget of {min(limits):,} reached ({used:,} used)"
    elif sweep.budget_usd is not None and sweep.cost_usd >= sweep.budget_usd:
        reason = f"cost budget of ${sweep.budget_usd} reached (${sweep.cost_usd} used)"
    if reason is None:
        return None
    with transaction.atomic():
        paused = sweep_transition(sweep_id=sweep.pk, to=Sweep.Status.PAUSED, only_from=[Sweep.Status.RUNNING],
                                  pause_reason=reason)
        if paused is not None:
            payload = {"reason": reason, "token_count": used, "cost": str(sweep.cost_usd)}
            events_record(events=[
                event_build(kind=Kind.BUDGET_EXHAUSTED, experiment=experiment, sweep=sweep, payload=payload),
                event_build(kind=Kind.SWEEP_PAUSED, experiment=experiment, sweep=sweep, payload={"reason": reason}),
            ])
    return reason if paused is not None else None

"""Prompt search sweeps: between rounds, an LLM proposer writes new variants of a prompt axis.

The driver calls `prompt_search_step` once every run so far has finished. The step tells the search
(apps/engine/planners/prompt_search.py) each new run's weighted score, judges the round, and, unless
the search is done, asks the proposer (the user's endpoint and model, through the driver: egress guard,
response cache, retries, steering) and plans the variants as runs of the sweep. Everything a round
decides is written in one transaction with its runs (state in `Sweep.request["guided"]`), so a driver
that dies mid-round repeats at most the proposer call, never the proposals; the proposer's tokens are
kept in `Sweep.request["planner_usage"]` and counted in the sweep's totals and budget.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.models import SystemSettings
from apps.core.types import Id
from apps.engine.config_paths import ConfigPathError, get_path
from apps.engine.hashing import call_cache_key
from apps.engine.pipeline import CallResult, CallSkipped
from apps.engine.planners.prompt_search import FEEDBACK_CHARS, PromptSearch, ProposalError, parse_reply
from apps.engine.types import ChatRequest, EndpointSpec, ProviderError
from apps.runs.models import Run, Score, ScoreSummary, StageResult, Sweep
from apps.runs.services import recording
from apps.runs.services.guided import proposal_checker
from apps.runs.services.planning import run_config_hash, samples_fingerprint, select_items

logger = logging.getLogger(__name__)

ITEM_CHARS = 1500

if TYPE_CHECKING:
    from apps.runs.driver import SweepDriver


@dataclass
class Proposal:
    round: int  # the round the variants will start
    endpoint_id: str
    model: str
    messages: list[dict]
    params: dict
    cache_key: str


def _half_width(run_id: Id) -> float:
    """The weighted score's 95% CI half-width: the scorers' half-widths, combined by their weights."""
    rows = ScoreSummary.objects.filter(run_id=run_id, weight__gt=0, ci_low__isnull=False, ci_high__isnull=False)
    pairs = [(row.weight, (row.ci_high - row.ci_low) / 2) for row in rows]
    total = sum(weight for weight, _ in pairs)
    return sum(weight * half for weight, half in pairs) / total if total else 0.0


def _text(value, limit: int = ITEM_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _worst_items(*, sweep: Sweep, run_id: Id, count: int) -> list[dict]:
    """The best run's lowest-scoring items: input, final output and each scorer's value and explanation."""
    per_item: dict[str, list[dict]] = {}
    for row in Score.objects.filter(run_id=run_id).exclude(item_id="").order_by("item_id", "repeat", "scorer_name"):
        per_item.setdefault(row.item_id, []).append(row)
    weights = dict(ScoreSummary.objects.filter(run_id=run_id).values_list("scorer_name", "weight"))

    def score(rows: list) -> float:
        valued = [(weights.get(r.scorer_name, 1.0), r.value) for r in rows if r.value is not None]
        total = sum(w for w, _ in valued)
        return sum(w * v for w, v in valued) / total if total else 0.0

    worst = sorted(per_item, key=lambda item_id: (score(per_item[item_id]), item_id))[:count]
    items = {str(i["id"]): i for i in select_items(experiment=sweep.experiment, sample_ids=sweep.sample_ids)}
    outputs: dict[str, str] = {}
    for item_id, text, error in (StageResult.objects.filter(run_id=run_id, item_id__in=worst, repeat=0)
                                 .order_by("item_id", "stage_index").values_list("item_id", "response_raw", "error")):
        outputs[item_id] = error or text  # the last stage wins: the run's final output
    return [{
        "id": item_id, "score": f"{score(per_item[item_id]):.3f}",
        "input": _text((items.get(item_id) or {}).get("input", "")), "output": _text(outputs.get(item_id, "")),
        "feedback": [{"scorer": r.scorer_name, "value": "error" if r.value is None else f"{r.value:.3f}",
                      "explanation": _text(r.error or r.metadata or "", FEEDBACK_CHARS)} for r in per_item[item_id]],
    } for item_id in worst]


def budget_check(*, sweep_id: Id) -> bool:
    """Refresh the sweep's totals (the proposer's tokens included) and pause it at its budget."""
    sweep = recording.sweep_refresh_totals(sweep_id=sweep_id)
    global_tokens = SystemSettings.load().max_tokens_per_sweep or settings.MAX_TOKENS_PER_SWEEP
    return bool(recording.sweep_check_budget(sweep=sweep, experiment=sweep.experiment, global_tokens=global_tokens))


def _save(sweep: Sweep, search: PromptSearch, told: set[str], **extra) -> None:
    guided = {**sweep.request["guided"], "state": search.to_state(), "told": sorted(told)}
    sweep.request = {**sweep.request, "guided": guided, **extra}
    sweep.save(update_fields=["request", "runs_total"])


def _round_event(sweep: Sweep, summary: dict) -> None:
    event_emit(kind=Kind.PROMPT_ROUND, experiment=sweep.experiment, sweep=sweep, payload=summary)


def round_prepare(*, sweep_id: Id) -> Proposal | str | None:
    """Tell the search the finished runs and judge the round; the proposer's request when another round is due.

    Returns None when there is nothing to do now (runs unfinished, sweep not running, search done) and
    "paused" when the sweep's budget is reached.
    """
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)
        guided = (sweep.request or {}).get("guided")
        runs = Run.objects.filter(sweep=sweep)
        if not guided or sweep.status != Sweep.Status.RUNNING or runs.unfinished().exists():
            return None
        search = PromptSearch.from_state(guided["state"])
        if search.done:
            return None
        axis = search.options["axis"]
        told = set(guided["told"])
        for run_id, point, config, score in (runs.exclude(pk__in=told).order_by("position")
                                             .values_list("pk", "point", "config", "weighted_score")):
            try:
                text = get_path(config, axis)
            except ConfigPathError:
                text = ""  # a stage without a system prompt
            search.tell(point, score, text=text, half_width=_half_width(run_id), run_id=str(run_id))
            told.add(str(run_id))
        if search.phase == "running" and not search.round_pending():
            _round_event(sweep, search.close_round())
        _save(sweep, search, told)
        if search.done:
            return None
    if budget_check(sweep_id=sweep_id):
        return "paused"
    best = search.best_entry
    worst = _worst_items(sweep=sweep, run_id=best["run_id"], count=search.options["worst"])
    proposer = search.options["proposer"]
    messages = search.proposer_messages(current_prompt=best["text"] or "", worst=worst)
    params = {"temperature": proposer["temperature"], "max_tokens": proposer["max_tokens"]}
    return Proposal(round=search.round + 1, endpoint_id=proposer["endpoint"], model=proposer["model"],
                    messages=messages, params=params, cache_key="")


def round_record(*, sweep_id: Id, proposal: Proposal, reply: CallResult | None, error: str = "",
                 endpoint: EndpointSpec | None = None, fresh: bool = False, counted: bool = False,
                 cache_owner: str = "") -> int:
    """Store the proposer's reply and plan its variants as runs, in one transaction.

    Returns the runs planned; -1 when the round brought nothing to run (it counts as a round without
    improvement; the caller asks again unless the search is done); 0 when another driver got there first.
    """
    with transaction.atomic():
        sweep = Sweep.objects.select_for_update().select_related("experiment__project").get(pk=sweep_id)
        search = PromptSearch.from_state(sweep.request["guided"]["state"])
        if search.done or search.phase != "closed" or search.round + 1 != proposal.round or sweep.status in (
                Sweep.Status.STOPPED, Sweep.Status.COMPLETED, Sweep.Status.FAILED):
            return 0
        told = set(sweep.request["guided"]["told"])
        extra = {}
        if reply is not None:
            known = list(sweep.request.get("planner_cache_keys") or [])
            if reply.cache_key and reply.cache_key not in known:  # the experiment's cache clear removes it
                extra["planner_cache_keys"] = [*known, reply.cache_key]
            if fresh:
                recording.calls_cache_store(owner_id=cache_owner, calls=[(str(sweep.pk), endpoint, reply)])
            if counted:
                usage = dict(sweep.request.get("planner_usage") or {})
                usage["tokens_in"] = usage.get("tokens_in", 0) + reply.tokens_in
                usage["tokens_out"] = usage.get("tokens_out", 0) + reply.tokens_out
                usage["cost_usd"] = round(usage.get("cost_usd", 0) + reply.cost_usd, 8)
                usage["calls"] = usage.get("calls", 0) + 1
                extra["planner_usage"] = usage
        try:
            if error:
                raise ProposalError(error)
            variants, reasoning = parse_reply(reply.text, search.options["k"])
        except ProposalError as exc:
            event_emit(kind=Kind.PROMPT_PROPOSALS, experiment=sweep.experiment, sweep=sweep,
                       payload={"round": proposal.round, "variants": [], "reasoning": "", "error": str(exc)})
            _round_event(sweep, search.skip_round(str(exc)))
            _save(sweep, search, told, **extra)
            return 0 if search.done else -1
        fresh_variants = search.propose(variants)
        planned = _plan_variants(sweep=sweep, search=search, variants=fresh_variants, told=told)
        sweep.runs_total = Run.objects.filter(sweep=sweep).count()
        event_emit(kind=Kind.PROMPT_PROPOSALS, experiment=sweep.experiment, sweep=sweep, payload={
            "round": proposal.round, "variants": variants, "new_variants": len(fresh_variants),
            "planned_runs": planned, "reasoning": reasoning,
            "tokens_in": reply.tokens_in, "tokens_out": reply.tokens_out, "cached": not counted,
        })
        if not planned:
            _round_event(sweep, search.close_round())
        _save(sweep, search, told, **extra)
        return planned or (0 if search.done else -1)


def _plan_variants(*, sweep: Sweep, search: PromptSearch, variants: list[str], told: set[str]) -> int:
    """One run per variant that validates and is not already a run of the sweep; the rest are told as failed."""
    experiment = sweep.experiment
    runs = Run.objects.filter(sweep=sweep)
    start = runs.next_position()
    known = set(runs.values_list("config_hash", flat=True))
    fingerprint = samples_fingerprint(select_items(experiment=experiment, sample_ids=sweep.sample_ids))
    check = proposal_checker(experiment)
    axis = search.options["axis"]
    new_runs = []
    for variant in variants:
        point = {axis: variant}
        config = check(point)
        config_hash = config and run_config_hash(config=config, items_fingerprint=fingerprint, repeats=sweep.repeats)
        if config is None or config_hash in known:
            search.tell(point, None, text=variant)
            continue
        known.add(config_hash)
        new_runs.append(Run(experiment=experiment, sweep=sweep, position=start + len(new_runs), config=config,
                            point=point, config_hash=config_hash))
    Run.objects.bulk_create(new_runs)
    return len(new_runs)


async def prompt_search_step(driver: SweepDriver) -> int:
    """The driver's step between rounds: the runs of the next round (0 when the search is done or paused)."""
    while True:
        proposal = await driver.db(round_prepare, sweep_id=driver.sweep_id)
        if proposal == "paused":
            driver.stopping = driver.stopping or "paused"
            return 0
        if proposal is None:
            return 0
        reply, error, endpoint, fresh, counted = None, "", None, False, False
        try:
            endpoint = driver.endpoint(proposal.endpoint_id)
            proposal.cache_key = call_cache_key(
                owner=driver.cache_owner, provider=endpoint.kind, base_url=endpoint.base_url, model=proposal.model,
                messages=proposal.messages, params=proposal.params, repeat=proposal.round)
            reply = CallResult(item_id="", repeat=proposal.round, stage_index=0, stage_name="proposer",
                               model=proposal.model, endpoint_id=endpoint.id, messages=proposal.messages,
                               params=dict(proposal.params), cache_key=proposal.cache_key)
            hit = (await driver.cache_get_many([proposal.cache_key])).get(proposal.cache_key)
            if hit is not None:
                reply.text, reply.tokens_in, reply.tokens_out = hit.text, hit.tokens_in, hit.tokens_out
                # The sweep's own entry (stored before a crash) is still this sweep's call: count it once.
                counted = hit.origin_run == driver.sweep_id
            else:
                completion = await driver.complete(endpoint, ChatRequest(model=proposal.model,
                                                                         messages=proposal.messages,
                                                                         params=proposal.params))
                reply.text, reply.tokens_in, reply.tokens_out = (completion.text, completion.tokens_in,
                                                                 completion.tokens_out)
                reply.latency_ms, reply.finish_reason = completion.latency_ms, completion.finish_reason
                fresh = counted = True
            if counted:
                reply.cost_usd = endpoint.cost_usd(proposal.model, reply.tokens_in, reply.tokens_out)
        except CallSkipped:
            return 0  # paused or stopped while the call waited: the next driver asks again
        except ProviderError as exc:
            logger.warning("Prompt search of sweep %s: proposer call failed: %s", driver.sweep_id, exc)
            error, reply = f"the proposer call failed: {exc}", None
        planned = await driver.db(round_record, sweep_id=driver.sweep_id, proposal=proposal, reply=reply,
                                  error=error, endpoint=endpoint, fresh=fresh, counted=counted,
                                  cache_owner=driver.cache_owner)
        if counted and await driver.db(budget_check, sweep_id=driver.sweep_id):
            driver.stopping = driver.stopping or "paused"
        if planned >= 0:
            return planned

"""Execute one run: every item × repeat through the pipeline's stages, cache first.

Plain Python over an injected backend (cache lookups, LLM calls, steering, a hook for each fresh
call as it completes), so the driver can persist results however it likes and tests can drive it
without a database. Stages run in order; within a stage every live (item, repeat) is rendered,
looked up in the cache in one batch, and the misses are called concurrently (the backend enforces
per-endpoint limits and retries).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from apps.engine import templating
from apps.engine.hashing import call_cache_key
from apps.engine.types import ChatRequest, Completion, EndpointSpec, ProviderError


class CallSkipped(Exception):
    """Raised by a backend when steering stopped the sweep while the call waited for a slot."""


@dataclass(frozen=True)
class CachedCall:
    text: str
    tokens_in: int
    tokens_out: int
    latency_ms: int
    finish_reason: str
    origin_run: str = ""


@dataclass
class CallResult:
    item_id: str
    repeat: int
    stage_index: int
    stage_name: str
    model: str
    endpoint_id: str
    messages: list[dict]
    params: dict
    cache_key: str = ""
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    finish_reason: str = ""
    cached: bool = False
    fresh: bool = False  # this attempt made the call (its cache entry must be stored)
    skipped: bool = False  # steering stopped the run before this call started
    error: str = ""
    cost_usd: float = 0.0


@dataclass
class PipelineOutcome:
    results: list[CallResult] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed_items(self) -> list[str]:
        return sorted({f"{r.item_id}#{r.repeat}" for r in self.results if r.error})


class PipelineBackend(Protocol):
    cache_owner: str  # whose response cache the calls are looked up in and stored to

    def endpoint(self, endpoint_id: str) -> EndpointSpec: ...

    async def cache_get_many(self, keys: list[str]) -> dict[str, CachedCall]: ...

    async def complete(self, endpoint: EndpointSpec, request: ChatRequest) -> Completion: ...

    def should_stop(self) -> bool: ...

    def call_completed(self, *, run_id: str, endpoint: EndpointSpec, result: CallResult) -> None:
        """A fresh call succeeded: persist it soon, so a crash before the run finishes does not lose it."""


def build_messages(stage: dict, context: dict[str, Any], *, max_template_chars: int) -> list[dict]:
    name = stage.get("name", "")
    messages = []
    if stage.get("system_prompt"):
        system = templating.render(stage["system_prompt"], context, stage=name, max_template_chars=max_template_chars)
        messages.append({"role": "system", "content": system})
    user = templating.render(stage["prompt_template"], context, stage=name, max_template_chars=max_template_chars)
    messages.append({"role": "user", "content": user})
    return messages


async def run_pipeline(
    *,
    run_id: str,
    config: dict,
    items: list[dict],
    repeats: int,
    backend: PipelineBackend,
    max_template_chars: int = templating.DEFAULT_MAX_TEMPLATE_CHARS,
) -> PipelineOutcome:
    """Run `config` over `items` × `repeats`; an item whose stage fails stops there, others go on."""
    outcome = PipelineOutcome()
    live = [(item, repeat, []) for item in items for repeat in range(repeats)]  # (item, repeat, earlier)
    for index, stage in enumerate(config["stages"]):
        try:
            endpoint = backend.endpoint(str(stage["endpoint"]))
        except ProviderError as exc:  # e.g. the endpoint was deleted: every live item fails at this stage
            outcome.results.extend(_unreachable(stage, index, live, exc))
            break
        pending: list[tuple[tuple, CallResult]] = []
        for entry in live:
            item, repeat, earlier = entry
            result = CallResult(
                item_id=str(item["id"]), repeat=repeat, stage_index=index, stage_name=stage.get("name", ""),
                model=stage["model"], endpoint_id=endpoint.id, messages=[], params=dict(stage.get("params") or {}),
            )
            try:
                context = templating.stage_context(item, earlier=earlier)
                result.messages = build_messages(stage, context, max_template_chars=max_template_chars)
            except templating.TemplateError as exc:
                result.error = str(exc)
                outcome.results.append(result)
                continue
            result.cache_key = call_cache_key(
                owner=backend.cache_owner, provider=endpoint.kind, base_url=endpoint.base_url, model=result.model,
                messages=result.messages, params=result.params, repeat=repeat,
            )
            pending.append((entry, result))

        hits = await backend.cache_get_many([r.cache_key for _, r in pending]) if pending else {}
        misses = []
        for entry, result in pending:
            hit = hits.get(result.cache_key)
            if hit is None:
                misses.append((entry, result))
                continue
            _apply(result, hit.text, hit.tokens_in, hit.tokens_out, hit.latency_ms, hit.finish_reason)
            # A hit on an entry this same run created (before a crash or pause) is still this
            # run's own call: count its tokens so totals match an uninterrupted run.
            result.cached = hit.origin_run != run_id
            result.fresh = False
        if misses:
            await asyncio.gather(*(_call(backend, endpoint, r, run_id=run_id) for _, r in misses))

        next_live = []
        for entry, result in pending:
            if result.skipped:
                outcome.interrupted = True
                continue
            outcome.results.append(result)
            if not result.error:
                item, repeat, earlier = entry
                next_live.append((item, repeat, [*earlier, (result.stage_name, result.text)]))
            result.cost_usd = (0.0 if result.cached
                               else endpoint.cost_usd(result.model, result.tokens_in, result.tokens_out))
        live = next_live
        if outcome.interrupted:
            break
    return outcome


def _unreachable(stage: dict, index: int, live: list, exc: ProviderError) -> list[CallResult]:
    name = stage.get("name", "")
    return [CallResult(item_id=str(item["id"]), repeat=repeat, stage_index=index, stage_name=name,
                       model=stage["model"], endpoint_id=str(stage["endpoint"]), messages=[],
                       params=dict(stage.get("params") or {}), error=f"stage '{name}': {exc}")
            for item, repeat, _ in live]


def _apply(result: CallResult, text: str, tokens_in: int, tokens_out: int, latency_ms: int, finish: str) -> None:
    result.text, result.tokens_in, result.tokens_out = text, tokens_in, tokens_out
    result.latency_ms, result.finish_reason = latency_ms, finish


async def _call(backend: PipelineBackend, endpoint: EndpointSpec, result: CallResult, *, run_id: str) -> None:
    if backend.should_stop():
        result.skipped = True
        return
    request = ChatRequest(model=result.model, messages=result.messages, params=result.params)
    try:
        completion = await backend.complete(endpoint, request)
    except CallSkipped:
        result.skipped = True
        return
    except ProviderError as exc:
        result.error = f"stage '{result.stage_name}': {exc}"
        return
    _apply(result, completion.text, completion.tokens_in, completion.tokens_out, completion.latency_ms,
           completion.finish_reason)
    result.fresh = True
    backend.call_completed(run_id=run_id, endpoint=endpoint, result=result)

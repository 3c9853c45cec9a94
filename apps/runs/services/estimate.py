"""Dry-run estimate of a plan: calls, cache hits (free), tokens and cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from apps.core.types import Id
from apps.endpoints.specs import endpoint_specs_for_configs
from apps.engine import templating
from apps.engine.hashing import CallKeys, canonical_json
from apps.engine.pipeline import build_messages
from apps.engine.planners.base import gc_paused
from apps.runs.models import ResponseCache
from apps.runs.services.planning import Plan

DEFAULT_OUTPUT_TOKENS = 256


@dataclass
class Estimate:
    runs: int
    calls: int
    cached_calls: int
    uncached_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float

    def as_dict(self) -> dict:
        return asdict(self)


class _Prompts:
    """Rendered messages by (stage templates, item, earlier outputs): 10⁵ runs of a sweep mostly share them."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items
        self.rendered: dict[tuple, tuple[str, int]] = {}

    def get(self, stage: dict, item_index: int, earlier: tuple) -> tuple[str, int]:
        """(canonical JSON of the messages, their length in characters) as the pipeline would send them."""
        key = (stage.get("name", ""), stage.get("system_prompt"), stage.get("prompt_template"), item_index, earlier)
        found = self.rendered.get(key)
        if found is None:
            context = templating.stage_context(self.items[item_index], earlier=earlier)
            try:
                messages = build_messages(stage, context, max_template_chars=templating.DEFAULT_MAX_TEMPLATE_CHARS)
            except templating.TemplateError:
                messages = [{"role": "user", "content": stage.get("prompt_template", "")}]
            found = self.rendered[key] = (canonical_json(messages), sum(len(m["content"]) for m in messages))
        return found


class _Params:
    """Canonical JSON of each stage's params, once per stage dict (runs share the stages a point leaves alone)."""

    def __init__(self, keys: CallKeys) -> None:
        self.keys = keys
        self.encoded: dict[int, tuple[dict, str]] = {}

    def get(self, stage: dict) -> str:
        found = self.encoded.get(id(stage))
        if found is None or found[0] is not stage:
            found = self.encoded[id(stage)] = (stage, self.keys.params_json(dict(stage.get("params") or {})))
        return found[1]


def plan_estimate(*, plan: Plan, owner_id: Id) -> Estimate:
    """Walk every call; a call is free when it (and so everything it depends on) is in the owner's cache."""
    with gc_paused():  # 10⁵ chains of acyclic tuples: the collector would rescan them and the plan again and again
        return _estimate(plan, owner_id=owner_id)


def _estimate(plan: Plan, *, owner_id) -> Estimate:
    specs = endpoint_specs_for_configs([run.config for run in plan.runs])
    est = Estimate(runs=len(plan.runs), calls=plan.calls, cached_calls=0, uncached_calls=0,
                   tokens_in=0, tokens_out=0, cost_usd=0.0)
    # Keys are built as the pipeline builds them (`call_cache_key`), from parts rendered once each.
    keys = CallKeys(owner=str(owner_id))
    prompts, params = _Prompts(plan.items), _Params(keys)
    # One chain per (run, item, repeat); advance all chains stage by stage with one cache query per stage.
    chains = [(run.config["stages"], item, repeat, ())
              for run in plan.runs for item in range(len(plan.items)) for repeat in range(plan.repeats)]
    stage_count = len(plan.runs[0].config["stages"]) if plan.runs else 0
    for index in range(stage_count):
        keyed = []
        for chain in chains:
            stage = chain[0][index]
            spec = specs[str(stage["endpoint"])]
            messages_json, prompt_chars = prompts.get(stage, chain[1], chain[3])
            key = keys.key(provider=spec.kind, base_url=spec.base_url, model=stage["model"],
                           messages_json=messages_json, params_json=params.get(stage), repeat=chain[2])
            keyed.append((chain, key, prompt_chars))
        hits = ResponseCache.objects.lookup(owner_id=owner_id, keys=[k[1] for k in keyed])
        next_chains = []
        for chain, key, prompt_chars in keyed:
            stages, item, repeat, earlier = chain
            stage = stages[index]
            if key in hits:
                est.cached_calls += 1
                next_chains.append((stages, item, repeat, (*earlier, (stage.get("name", ""), hits[key][0]))))
                continue
            # Uncached: this stage and every later one will be paid for.
            for later in stages[index:]:
                tokens_in = max(1, (prompt_chars if later is stage else 2000) // 4)
                tokens_out = int((later.get("params") or {}).get("max_tokens") or DEFAULT_OUTPUT_TOKENS)
                est.uncached_calls += 1
                est.tokens_in += tokens_in
                est.tokens_out += tokens_out
                est.cost_usd += specs[str(later["endpoint"])].cost_usd(later["model"], tokens_in, tokens_out)
        chains = next_chains
    est.cost_usd = round(est.cost_usd, 6)
    return est


"""Dry-run estimate of a plan: calls, cache hits (free), tokens and cost."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from apps.endpoints.specs import endpoint_specs_for_configs
from apps.engine import templating
from apps.engine.hashing import call_cache_key
from apps.engine.pipeline import build_messages
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


def plan_estimate(plan: Plan) -> Estimate:
    """Walk every call; a call is free when it (and so everything it depends on) is cached."""
    specs = endpoint_specs_for_configs([run.config for run in plan.runs])
    est = Estimate(runs=len(plan.runs), calls=plan.calls, cached_calls=0, uncached_calls=0,
                   tokens_in=0, tokens_out=0, cost_usd=0.0)
    # One chain per (run, item, repeat); advance all chains stage by stage with one cache query per stage.
    chains = [(run, item, repeat, []) for run in plan.runs for item in plan.items for repeat in range(plan.repeats)]
    stage_count = len(plan.runs[0].config["stages"]) if plan.runs else 0
    for index in range(stage_count):
        keyed = []
        for run, item, repeat, earlier in chains:
            stage = run.config["stages"][index]
            spec = specs[str(stage["endpoint"])]
            try:
                messages = build_messages(stage, templating.stage_context(item, earlier=earlier),
                                          max_template_chars=templating.DEFAULT_MAX_TEMPLATE_CHARS)
            except templating.TemplateError:
                messages = [{"role": "user", "content": stage.get("prompt_template", "")}]
            params = dict(stage.get("params") or {})
            key = call_cache_key(provider=spec.kind, base_url=spec.base_url, model=stage["model"],
                                 messages=messages, params=params, repeat=repeat)
            keyed.append(((run, item, repeat, earlier), stage, spec, messages, key))
        hits = _cached_outputs([k[-1] for k in keyed])
        next_chains = []
        for chain, stage, spec, messages, key in keyed:
            if key in hits:
                est.cached_calls += 1
                run, item, repeat, earlier = chain
                next_chains.append((run, item, repeat, [*earlier, (stage.get("name", ""), hits[key])]))
                continue
            # Uncached: this stage and every later one will be paid for.
            remaining = chain[0].config["stages"][index:]
            for later in remaining:
                prompt_chars = sum(len(m["content"]) for m in messages) if later is stage else 2000
                tokens_in = max(1, prompt_chars // 4)
                tokens_out = int((later.get("params") or {}).get("max_tokens") or DEFAULT_OUTPUT_TOKENS)
                later_spec = specs[str(later["endpoint"])]
                est.uncached_calls += 1
                est.tokens_in += tokens_in
                est.tokens_out += tokens_out
                est.cost_usd += later_spec.cost_usd(later["model"], tokens_in, tokens_out)
        chains = next_chains
    est.cost_usd = round(est.cost_usd, 6)
    return est


def _cached_outputs(keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        found.update(ResponseCache.objects.filter(key__in=chunk).values_list("key", "response"))
    return found

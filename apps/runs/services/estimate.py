"""Dry-run estimate of a plan: calls, cache hits (free), and tokens and cost as a range (docs/estimates.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from apps.core.types import Id
from apps.endpoints.specs import endpoint_specs_for_configs
from apps.engine import templating
from apps.engine.hashing import CallKeys, canonical_json
from apps.engine.pipeline import build_messages
from apps.engine.planners.base import gc_paused
from apps.runs.models import ResponseCache
from apps.runs.services.calibration import TokenModel, history_for, prompt_chars
from apps.runs.services.planning import Plan

# Stands in for an earlier stage's reply of the expected length; the marker tells apart the fillers of stages.
FILLER = "lorem ipsum dolor sit amet "


def _range(low: float, expected: float, high: float) -> dict:
    return {"low": round(low), "expected": round(expected), "high": round(high)}


@dataclass
class Estimate:
    runs: int
    calls: int
    cached_calls: int
    uncached_calls: int
    tokens_in: int  # expected
    tokens_out: int  # expected
    cost_usd: float  # expected
    tokens: dict = field(default_factory=lambda: _range(0, 0, 0))  # {low, expected, high}, in + out
    tokens_in_range: dict = field(default_factory=lambda: _range(0, 0, 0))
    tokens_out_range: dict = field(default_factory=lambda: _range(0, 0, 0))
    cost_usd_range: dict = field(default_factory=lambda: {"low": 0.0, "expected": 0.0, "high": 0.0})
    calibration: list[dict] = field(default_factory=list)  # per (endpoint, model): where its numbers come from
    # An adaptive sweep decides as it goes: the runs and stage calls it makes at least and at most (`runs` and
    # `calls` are the most), and its planner's own LLM calls (a proposer's, an agent's), included in the totals.
    adaptive: bool = False
    runs_range: dict | None = None  # {low, high}
    calls_range: dict | None = None
    planner: dict | None = None  # {calls: {low, high}, tokens: {low, expected, high}, cost_usd_range}

    def as_dict(self) -> dict:
        return asdict(self)


class _Prompts:
    """Rendered messages by (stage templates, item, earlier outputs): 10⁵ runs of a sweep mostly share them."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items
        self.rendered: dict[tuple, tuple[str, int, int, tuple]] = {}

    def get(self, stage: dict, item_index: int, earlier: tuple, fillers: tuple = ()) -> tuple[str, int, int, tuple]:
        """(canonical JSON of the messages, their characters, their number, how often each of `fillers` is in
        them) as the pipeline would send them."""
        key = (stage.get("name", ""), stage.get("system_prompt"), stage.get("prompt_template"), item_index, earlier)
        found = self.rendered.get(key)
        if found is None:
            context = templating.stage_context(self.items[item_index], earlier=earlier)
            try:
                messages = build_messages(stage, context, max_template_chars=templating.DEFAULT_MAX_TEMPLATE_CHARS)
            except templating.TemplateError:
                messages = [{"role": "user", "content": stage.get("prompt_template", "")}]
            text = "\n".join(str(m.get("content", "")) for m in messages) if fillers else ""
            found = self.rendered[key] = (canonical_json(messages), prompt_chars(messages), len(messages),
                                          tuple(text.count(filler) for filler in fillers))
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


class _Paid:
    """What one uncached call adds: (in, out, cost) ranges, and the filler that later stages read as its reply.

    An earlier reply inside the prompt counts as that reply's own token range (`embedded`: (filler, out range)
    pairs), the rest of the prompt by its characters. Memoised by everything that decides them.
    """

    def __init__(self, specs: dict, models: dict[tuple[str, str], TokenModel]) -> None:
        self.specs, self.models = specs, models
        self.found: dict[tuple, tuple] = {}
        self.fillers: dict[tuple[int, int], str] = {}

    def get(self, stage: dict, index: int, prompt: tuple[int, int, tuple], embedded: tuple) -> tuple:
        endpoint, model = str(stage["endpoint"]), stage["model"]
        max_tokens = (stage.get("params") or {}).get("max_tokens")
        key = (endpoint, model, max_tokens, index, prompt, embedded)
        found = self.found.get(key)
        if found is None:
            chars, messages, counts = prompt
            tokens = self.models[(endpoint, model)]
            max_tokens = int(max_tokens) if isinstance(max_tokens, int | float) and max_tokens > 0 else None
            own = chars - sum(count * len(filler) for count, (filler, _) in zip(counts, embedded, strict=True))
            tokens_in = list(tokens.prompt_tokens(max(0, own), messages))
            for count, (_, reply) in zip(counts, embedded, strict=True):
                tokens_in = [total + count * bound for total, bound in zip(tokens_in, reply, strict=True)]
            tokens_out = tokens.output_tokens(max_tokens)
            spec = self.specs[endpoint]
            cost = tuple(spec.cost_usd(model, i, o) for i, o in zip(tokens_in, tokens_out, strict=True))
            filler = self._filler(index, tokens.output_chars(max_tokens))
            found = self.found[key] = (tuple(tokens_in), tokens_out, cost, (filler, tokens_out))
        return found

    def _filler(self, index: int, chars: int) -> str:
        if (index, chars) not in self.fillers:
            marker = f"«{index}» "
            self.fillers[(index, chars)] = marker + (FILLER * (chars // len(FILLER) + 1))[:max(0, chars - len(marker))]
        return self.fillers[(index, chars)]


def plan_estimate(*, plan: Plan, owner_id: Id, use_cache: bool = True) -> Estimate:
    """Walk every call; a call is free when it (and so everything it depends on) is in the owner's cache.
    Without `use_cache`, every call is priced as if none were (the upper end of an adaptive sweep)."""
    with gc_paused():  # 10⁵ chains of acyclic tuples: the collector would rescan them and the plan again and again
        return _estimate(plan, owner_id=owner_id, use_cache=use_cache)


def token_models(pairs: set[tuple[str, str]], specs: dict, owner_id: Id) -> dict[tuple[str, str], TokenModel]:
    """The token model of each (endpoint id, model), from the owner's history of it: one query for all."""
    target = {pair: (specs[pair[0]].kind, specs[pair[0]].base_url, pair[1]) for pair in pairs}
    histories = history_for(owner_id=owner_id, targets=target.values())
    return {pair: TokenModel(histories.get(target[pair])) for pair in pairs}


def _token_models(plan: Plan, specs: dict, owner_id: Id) -> dict[tuple[str, str], TokenModel]:
    pairs = {(str(stage["endpoint"]), stage["model"]) for run in plan.runs for stage in run.config["stages"]}
    return token_models(pairs, specs, owner_id)


def calibration_entries(models: dict[tuple[str, str], TokenModel]) -> list[dict]:
    shown = []
    for (endpoint, model), tokens in sorted(models.items()):
        history = tokens.history
        entry = {"endpoint": endpoint, "model": model, "source": tokens.source, "calls": 0,
                 "chars_per_token": None, "output_tokens_mean": None, "output_tokens_p90": None}
        if history is not None:
            per_char = history.tokens_per_char[1] if history.tokens_per_char else 0
            entry.update(calls=history.calls, chars_per_token=round(1 / per_char, 2) if per_char else None,
                         output_tokens_mean=round(history.output_tokens[1], 1),
                         output_tokens_p90=history.output_tokens[2])
        shown.append(entry)
    return shown


def _estimate(plan: Plan, *, owner_id, use_cache: bool = True) -> Estimate:
    specs = endpoint_specs_for_configs([run.config for run in plan.runs])
    models = _token_models(plan, specs, owner_id)
    est = Estimate(runs=len(plan.runs), calls=plan.calls, cached_calls=0, uncached_calls=0,
                   tokens_in=0, tokens_out=0, cost_usd=0.0, calibration=calibration_entries(models))
    # Keys are built as the pipeline builds them (`call_cache_key`), from parts rendered once each.
    keys = CallKeys(owner=str(owner_id))
    prompts, params, paid = _Prompts(plan.items), _Params(keys), _Paid(specs, models)
    totals_in, totals_out, totals_cost = [0.0] * 3, [0.0] * 3, [0.0] * 3
    # One chain per (run, item, repeat): (stages, item, repeat, earlier outputs, the paid earlier replies). All
    # chains advance stage by stage with one cache query per stage; after a paid call nothing later is cached.
    chains = [(run.config["stages"], item, repeat, (), ())
              for run in plan.runs for item in range(len(plan.items)) for repeat in range(plan.repeats)]
    stage_count = len(plan.runs[0].config["stages"]) if plan.runs else 0
    for index in range(stage_count):
        keyed = {}
        for position, (stages, item, repeat, earlier, embedded) in enumerate(chains):
            if not embedded and use_cache:
                stage = stages[index]
                spec = specs[str(stage["endpoint"])]
                keyed[position] = keys.key(provider=spec.kind, base_url=spec.base_url, model=stage["model"],
                                           messages_json=prompts.get(stage, item, earlier)[0],
                                           params_json=params.get(stage), repeat=repeat)
        hits = ResponseCache.objects.lookup(owner_id=owner_id, keys=list(keyed.values())) if keyed else {}
        next_chains = []
        for position, (stages, item, repeat, earlier, embedded) in enumerate(chains):
            stage = stages[index]
            hit = hits.get(keyed.get(position))
            if hit is not None:
                est.cached_calls += 1
                next_chains.append((stages, item, repeat, (*earlier, (stage.get("name", ""), hit[0])), ()))
                continue
            _, *prompt = prompts.get(stage, item, earlier, tuple(filler for filler, _ in embedded))
            tokens_in, tokens_out, cost, reply = paid.get(stage, index, tuple(prompt), embedded)
            est.uncached_calls += 1
            for bound in range(3):
                totals_in[bound] += tokens_in[bound]
                totals_out[bound] += tokens_out[bound]
                totals_cost[bound] += cost[bound]
            next_chains.append((stages, item, repeat, (*earlier, (stage.get("name", ""), reply[0])),
                                (*embedded, reply)))
        chains = next_chains
    est.tokens_in, est.tokens_out = round(totals_in[1]), round(totals_out[1])
    est.cost_usd = round(totals_cost[1], 6)
    est.tokens_in_range, est.tokens_out_range = _range(*totals_in), _range(*totals_out)
    est.tokens = _range(*(i + o for i, o in zip(totals_in, totals_out, strict=True)))
    est.cost_usd_range = {"low": round(totals_cost[0], 6), "expected": est.cost_usd, "high": round(totals_cost[2], 6)}
    return est

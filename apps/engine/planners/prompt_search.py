"""Prompt search: an LLM proposer rewrites one prompt axis from the worst items, round after round.

In the spirit of OPRO (earlier prompts with their scores, sorted ascending, in the meta-prompt) and GEPA
(the proposer reads the outputs and the scorers' textual feedback on the worst items). Round 0 runs the
seed prompt; each later round asks the proposer for `k` variants of the best prompt so far and runs them.
The search ends after `rounds` rounds, or once `patience` rounds in a row did not raise the best weighted
score by more than the best's confidence half-width.

This module is the pure part: options, the search state (plain JSON, kept in `Sweep.request`), the
proposer's messages and the parsing of its reply. `apps/runs/services/prompt_search.py` calls the proposer
through the sweep driver and turns variants into runs.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from apps.engine import templating

from .base import DEFAULT_MAX_POINTS, CallBounds, Plan, PlanError, Planner, PlannerCalls, SweepShape

STATE_VERSION = 1
MAX_PROMPT_CHARS = 20_000
MAX_TEMPLATE_CHARS = 20_000
FEEDBACK_CHARS = 600
HISTORY_SIZE = 8
AXIS = re.compile(r"^stages\.(\d+)\.(system_prompt|prompt_template)$")
OPTIONS = ("proposer", "axis", "k", "rounds", "patience", "seed_prompt", "worst")
PROPOSER_OPTIONS = ("endpoint", "model", "template", "temperature", "max_tokens")

DEFAULT_TEMPLATE = """You improve prompts for a language model. The prompt at `{{ axis }}` is being optimised.

Earlier prompts and their scores (0 to 1, higher is better), worst first:
{% for entry in history %}
--- score {{ entry.score }} ---
{{ entry.prompt }}
{% endfor %}

The best prompt so far (score {{ current_score }}):
<prompt>
{{ current_prompt }}
</prompt>

The items it handled worst, with the model's output and what each scorer said:
{% for item in worst %}
### Item {{ item.id }} (score {{ item.score }})
Input: {{ item.input }}
Output: {{ item.output }}
{% for feedback in item.feedback %}Scorer {{ feedback.scorer }}: {{ feedback.value }} {{ feedback.explanation }}
{% endfor %}{% endfor %}

Write {{ k }} new variants of the prompt that fix these failures; keep what works. Reply with JSON only:
{"reasoning": "what you changed and why", "variants": ["first variant", "..."]}
"""


class ProposalError(ValueError):
    """The proposer's reply held no usable variants."""


def _number(options: dict, name: str, default, *, low, high, whole: bool, field: str):
    value = options.get(name, default)
    kind = "whole number" if whole else "number"
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int))
            or not math.isfinite(value) or not low <= value <= high):
        raise PlanError(f"{field} must be a {kind} from {low} to {high}.", field=field)
    return value


def _text(value: Any, *, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{field} must be a non-empty string.", field=field)
    if len(value) > limit:
        raise PlanError(f"{field} may be at most {limit:,} characters.", field=field)
    return value


def _unknown(options: dict, known: tuple[str, ...], prefix: str) -> None:
    for name in options:
        if name not in known:
            raise PlanError(f"Unknown option {name!r}; known: {', '.join(known)}.", field=f"{prefix}.{name}")


def proposer_validate(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise PlanError("A prompt_search sweep needs a proposer: {endpoint, model}.", field="options.proposer")
    _unknown(raw, PROPOSER_OPTIONS, "options.proposer")
    template = raw.get("template", DEFAULT_TEMPLATE)
    _text(template, field="options.proposer.template", limit=MAX_TEMPLATE_CHARS)
    try:
        templating.template_variables(template, stage="proposer")
    except templating.TemplateError as exc:
        raise PlanError(f"The proposer template does not parse: {exc}", field="options.proposer.template") from exc
    return {
        "endpoint": _text(raw.get("endpoint"), field="options.proposer.endpoint", limit=64).strip(),
        "model": _text(raw.get("model"), field="options.proposer.model", limit=200).strip(),
        "template": template,
        "temperature": float(_number(raw, "temperature", 0.7, low=0, high=2, whole=False,
                                     field="options.proposer.temperature")),
        "max_tokens": _number(raw, "max_tokens", 2000, low=16, high=32_000, whole=True,
                              field="options.proposer.max_tokens"),
    }


def parse_reply(text: str, k: int) -> tuple[list[str], str]:
    """(variants, reasoning) from the proposer's reply: a JSON object, bare or fenced; else ``` blocks."""
    start, end = text.find("{"), text.rfind("}")
    data = None
    if start != -1 and end > start:
        try:
            data = json.loads(text[start:end + 1])
        except ValueError:
            data = None
    if isinstance(data, dict) and isinstance(data.get("variants"), list):
        variants = [v.strip() for v in data["variants"] if isinstance(v, str) and v.strip()]
        reasoning = data.get("reasoning") if isinstance(data.get("reasoning"), str) else ""
    else:
        # GEPA's convention: new instructions inside ``` blocks, reasoning around them.
        blocks = re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S)
        variants = [b.strip() for b in blocks if b.strip()]
        reasoning = re.sub(r"```.*?```", "", text, flags=re.S).strip()
    variants = [v for v in dict.fromkeys(variants) if len(v) <= MAX_PROMPT_CHARS][:k]
    if not variants:
        raise ProposalError("The proposer's reply held no variants (expected JSON with a 'variants' list).")
    return variants, reasoning[:4000]


class PromptSearch:
    """The search state: every candidate prompt with its round and score, the best so far and the rounds
    without a significant improvement. `tell`/`best`/`to_state` follow the AdaptiveSearch protocol;
    `ask` returns nothing, since new points come from the proposer (`propose`)."""

    def __init__(self, options: dict) -> None:
        self.options = options
        self.round = 0
        self.phase = "running"  # "running": the round's runs are planned; "closed": it is scored and judged
        self.candidates: list[dict] = []
        self.best_entry: dict | None = None
        self.stale = 0
        self.done = ""

    # AdaptiveSearch ----------------------------------------------------------------------
    def tell(self, point: dict, score: float | None, *, text: str | None = None,
             half_width: float = 0.0, run_id: str = "") -> None:
        """Record a run's weighted score; `text` is the prompt it ran (the seed run's point may be empty)."""
        prompt = point.get(self.options["axis"])
        text = text if text is not None else prompt
        for candidate in self.candidates:
            if candidate["prompt"] == prompt:
                candidate.update(text=text, score=score, half_width=half_width, run_id=run_id, told=True)
                return
        self.candidates.append({"prompt": prompt, "text": text, "round": self.round, "score": score,
                                "half_width": half_width, "run_id": run_id, "told": True})

    def ask(self, n: int) -> list[dict]:
        return []

    def best(self) -> tuple[dict, float] | None:
        if self.best_entry is None:
            return None
        return {self.options["axis"]: self.best_entry["text"]}, self.best_entry["score"]

    def to_state(self) -> dict:
        return copy.deepcopy({"version": STATE_VERSION, "options": self.options, "round": self.round,
                              "phase": self.phase, "candidates": self.candidates, "best": self.best_entry,
                              "stale": self.stale, "done": self.done})

    @classmethod
    def from_state(cls, state: dict) -> PromptSearch:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise PlanError("This prompt search state is from an unknown version.", field="state")
        try:
            search = cls(state["options"])
            search.round, search.phase, search.stale = state["round"], state["phase"], state["stale"]
            search.candidates, search.best_entry, search.done = state["candidates"], state["best"], state["done"]
        except (KeyError, TypeError) as exc:
            raise PlanError(f"This prompt search state is damaged ({exc!r}).", field="state") from exc
        return search

    # Rounds ------------------------------------------------------------------------------
    def known(self, prompt: str) -> bool:
        return any(prompt in (c["prompt"], c.get("text")) for c in self.candidates)

    def round_pending(self) -> list[dict]:
        return [c for c in self.candidates if c["round"] == self.round and not c.get("told")]

    def close_round(self) -> dict:
        """Judge the round once all its candidates are told: a new best must beat the old one by more than
        the old best's confidence half-width to count as an improvement."""
        scored = [c for c in self.candidates if c["round"] == self.round and c["score"] is not None]
        top = max(scored, key=lambda c: c["score"], default=None)
        previous = self.best_entry
        improved = top is not None and (previous is None or top["score"] - previous["score"] > previous["half_width"])
        if top is not None and (previous is None or top["score"] > previous["score"]):
            self.best_entry = dict(top)
        if self.round > 0:
            self.stale = 0 if improved else self.stale + 1
        self.phase = "closed"
        if self.round >= self.options["rounds"]:
            self.done = "rounds"
        elif self.stale >= self.options["patience"]:
            self.done = "patience"
        elif self.best_entry is None:
            self.done = "no scored prompt"
        return {"round": self.round, "best_score": self.best_entry["score"] if self.best_entry else None,
                "best_prompt": self.best_entry["text"] if self.best_entry else None,
                "round_best_score": top["score"] if top else None, "improved": improved, "stale_rounds": self.stale,
                "finished": self.done or None}

    def skip_round(self, reason: str) -> dict:
        """A round whose proposer gave nothing new: it counts as a round without improvement."""
        self.round += 1
        self.phase = "running"
        summary = self.close_round()
        return {**summary, "skipped": reason}

    def propose(self, variants: list[str]) -> list[str]:
        """Start the next round with the proposer's variants; returns those never tried before."""
        fresh = [v for v in dict.fromkeys(variants) if not self.known(v)]
        self.round += 1
        self.phase = "running"
        for prompt in fresh:
            self.candidates.append({"prompt": prompt, "text": prompt, "round": self.round, "score": None,
                                    "half_width": 0.0, "run_id": "", "told": False})
        return fresh

    def proposer_messages(self, *, current_prompt: str, worst: list[dict]) -> list[dict]:
        """The proposer's chat messages: its template rendered with the history, the best prompt and the worst items."""
        history = sorted((c for c in self.candidates if c["score"] is not None and c.get("text") is not None),
                         key=lambda c: c["score"])[-HISTORY_SIZE:]
        context = {
            "axis": self.options["axis"], "k": self.options["k"], "round": self.round + 1,
            "current_prompt": current_prompt,
            "current_score": _fmt(self.best_entry["score"]) if self.best_entry else "none",
            "history": [{"prompt": c["text"], "score": _fmt(c["score"])} for c in history],
            "worst": worst,
        }
        proposer = self.options["proposer"]
        text = templating.render(proposer["template"], context, stage="proposer",
                                 max_template_chars=MAX_TEMPLATE_CHARS)
        return [{"role": "user", "content": text}]


def _fmt(score: float | None) -> str:
    return "none" if score is None else f"{score:.3f}"


class PromptSearchPlanner(Planner):
    """`plan` returns round 0 (the seed prompt, or the stage's own prompt: an empty point) and the state."""

    kind = "prompt_search"
    adaptive = True

    @classmethod
    def options_validate(cls, options: dict) -> dict:
        if not isinstance(options, dict):
            raise PlanError("options must be an object.", field="options")
        _unknown(options, OPTIONS, "options")
        axis = options.get("axis", "stages.0.system_prompt")
        if not isinstance(axis, str) or not AXIS.match(axis):
            raise PlanError("axis must be stages.<i>.system_prompt or stages.<i>.prompt_template.",
                            field="options.axis")
        rounds = _number(options, "rounds", 5, low=1, high=50, whole=True, field="options.rounds")
        seed = options.get("seed_prompt")
        return {
            "proposer": proposer_validate(options.get("proposer")),
            "axis": axis,
            "k": _number(options, "k", 4, low=1, high=20, whole=True, field="options.k"),
            "rounds": rounds,
            "patience": _number(options, "patience", 2, low=1, high=50, whole=True, field="options.patience"),
            "worst": _number(options, "worst", 3, low=1, high=20, whole=True, field="options.worst"),
            "seed_prompt": None if seed is None else _text(seed, field="options.seed_prompt", limit=MAX_PROMPT_CHARS),
        }

    def endpoint_options(self) -> dict[str, str]:
        return {"options.proposer.endpoint": self.options["proposer"]["endpoint"]}

    def stages_check(self, stages: list[dict]) -> None:
        index = int(AXIS.match(self.options["axis"]).group(1))
        if index >= len(stages):
            raise PlanError(f"axis names stage {index}, but the pipeline has {len(stages)} stage(s).",
                            field="options.axis")

    @classmethod
    def search_from_state(cls, state: dict) -> PromptSearch:
        return PromptSearch.from_state(state)

    def call_bounds(self, shape: SweepShape) -> CallBounds:
        """Round 0's seed run, then `k` variants a round: every round at most; at least the `patience`
        rounds without improvement that end it early. The proposer is called once a round."""
        k, rounds = self.options["k"], self.options["rounds"]
        early = min(rounds, self.options["patience"])
        runs = (1 + early * k, 1 + rounds * k)
        proposer = self.options["proposer"]
        return CallBounds(
            runs=runs, calls=(runs[0] * shape.calls_per_run, runs[1] * shape.calls_per_run),
            new_runs=(runs[0] - 1, runs[1] - 1),
            planner=(PlannerCalls(endpoint=proposer["endpoint"], model=proposer["model"], calls=(early, rounds),
                                  messages=self._sample_proposer_messages(shape, late=True),
                                  smallest=self._sample_proposer_messages(shape, late=False),
                                  max_tokens=proposer["max_tokens"]),))

    def sample_points(self, shape: SweepShape, *, seed: int = 0, size: int = 16) -> list[dict]:
        """The seed prompt's point: variants are priced like it."""
        seed_prompt = self.options["seed_prompt"]
        return [{} if seed_prompt is None else {self.options["axis"]: seed_prompt}]

    def _sample_proposer_messages(self, shape: SweepShape, *, late: bool) -> list[dict]:
        """The proposer's prompt late in the search: a full history of prompts as long as the seed, the
        `worst` first items with replies of the expected length; or its first, smallest one: the seed alone
        and empty replies."""
        index, part = AXIS.match(self.options["axis"]).groups()
        stage = shape.stages[int(index)] if int(index) < len(shape.stages) else {}
        prompt = self.options["seed_prompt"] or stage.get(part) or ""
        search = PromptSearch(self.options)
        search.best_entry = {"score": 0.5}
        entry = {"prompt": prompt, "text": prompt, "round": 0, "score": 0.5}
        search.candidates = [entry] * (HISTORY_SIZE if late else 1)
        reply = "x" * min(shape.reply_chars, 1500) if late else ""  # services cut an output at 1,500 characters
        worst = [{"id": str(item.get("id", "")), "score": "0.000", "output": reply, "feedback": [],
                  "input": str(item.get("input", ""))[:1500]} for item in shape.items[: self.options["worst"]]]
        try:
            return search.proposer_messages(current_prompt=prompt, worst=worst)
        except templating.TemplateError:
            return [{"role": "user", "content": self.options["proposer"]["template"]}]

    def plan(
        self, space: list[dict], *, n: int | None = None, seed: int | None = None,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> Plan:
        search = PromptSearch(self.options)
        seed_prompt = self.options["seed_prompt"]
        point = {} if seed_prompt is None else {self.options["axis"]: seed_prompt}
        search.candidates.append({"prompt": seed_prompt, "text": seed_prompt, "round": 0, "score": None,
                                  "half_width": 0.0, "run_id": "", "told": False})
        return Plan([point], kind=self.kind, seed=seed, space_size=None, state=search.to_state())

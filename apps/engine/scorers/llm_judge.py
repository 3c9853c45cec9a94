"""LLM-as-judge: a second model rates the output; the rating maps linearly from
[`scale_min`, `scale_max`] (default 1–10) to [0, 1].

The `prompt` option is a Jinja template (same sandbox as stage prompts) with the variables
`input`, `output`, `reference` (the item's `reference`, else `expected`, else ""), `expected`,
`item` and `criteria`. It becomes one user message. The default asks for a short reason and a
final line `SCORE: <number>`; judge_parse documents the other reply shapes that are accepted.

An unparseable or out-of-range reply is asked again (`max_retries`, default 2) as a follow-up turn
carrying the judge's previous reply and a stricter instruction, so each retry is a new call with
its own cache key. All calls go through `ctx.judge`, which the Django side caches.
"""

from __future__ import annotations

from typing import Any

from apps.engine import templating
from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext, item_reference
from apps.engine.scorers.judge_parse import excerpt, parse_rating
from apps.engine.types import ChatRequest, ProviderError

DEFAULT_PROMPT = """You are a strict, fair evaluator. Rate the RESPONSE to the INPUT on a scale \
from {{ scale_min }} to {{ scale_max }}, where {{ scale_min }} is useless and {{ scale_max }} is excellent.
{% if criteria %}
Criteria:
{{ criteria }}
{% endif %}
INPUT:
{{ input }}
{% if reference %}
REFERENCE ANSWER (what a good response contains):
{{ reference }}
{% endif %}
RESPONSE:
{{ output }}

Explain your judgement in one or two sentences, then end with a final line of exactly this form:
SCORE: <number from {{ scale_min }} to {{ scale_max }}>"""
RETRY_PROMPT = ("Your reply did not end with a usable rating. Reply with only one line of the form "
                "`SCORE: <number>` where the number is from {low} to {high}.")
VARIABLES = {"input", "output", "reference", "expected", "item", "criteria", "scale_min", "scale_max"}
MAX_PROMPT_CHARS = 50_000


class LLMJudgeScorer(Scorer):
    type = "llm_judge"
    needs_endpoint = True

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("endpoint", "model", "prompt", "criteria", "scale_min", "scale_max",
                                      "temperature", "max_retries"))
        low = opt.number(options, "scale_min", default=1.0, low=-1e6, high=1e6)
        high = opt.number(options, "scale_max", default=10.0, low=-1e6, high=1e6)
        if high <= low:
            raise OptionsInvalid("scale_max", f"Must be greater than scale_min ({low:g}).")
        prompt = opt.text(options, "prompt", default=DEFAULT_PROMPT, max_chars=MAX_PROMPT_CHARS)
        try:
            unknown = templating.template_variables(prompt, stage="llm_judge") - VARIABLES
        except templating.TemplateError as exc:
            raise OptionsInvalid("prompt", exc.message) from None
        if unknown:
            raise OptionsInvalid("prompt", f"Unknown variable '{sorted(unknown)[0]}'; "
                                           f"use: {', '.join(sorted(VARIABLES))}.")
        criteria = options.get("criteria") or ""
        if not isinstance(criteria, str) or len(criteria) > 20_000:
            raise OptionsInvalid("criteria", "Must be a string of at most 20000 characters.")
        return {
            "endpoint": opt.uuid_text(options, "endpoint"),
            "model": opt.text(options, "model", max_chars=200).strip(),
            "prompt": prompt,
            "criteria": criteria,
            "scale_min": low,
            "scale_max": high,
            "temperature": opt.number(options, "temperature", default=0.0, low=0, high=2),
            "max_retries": opt.number(options, "max_retries", default=2, low=0, high=5, integer=True),
        }

    def first_message(self, ctx: ScoringContext) -> str:
        o = self.options
        reference = item_reference(ctx.item) or ""
        variables = {"input": ctx.item.get("input", ""), "output": ctx.output, "reference": reference,
                     "expected": ctx.item.get("expected", ""), "item": ctx.item, "criteria": o["criteria"],
                     "scale_min": f"{o['scale_min']:g}", "scale_max": f"{o['scale_max']:g}"}
        return templating.render(o["prompt"], variables, stage="llm_judge")

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        o = self.options
        if ctx.judge is None:
            return ScoreResult.failed("no judge is available to this scorer")
        try:
            messages = [{"role": "user", "content": self.first_message(ctx)}]
        except templating.TemplateError as exc:
            return ScoreResult.failed(f"judge prompt: {exc.message}")
        low, high, problem, reply = o["scale_min"], o["scale_max"], "", ""
        for attempt in range(1, o["max_retries"] + 2):
            request = ChatRequest(model=o["model"], messages=messages, params={"temperature": o["temperature"]})
            try:
                reply = (await ctx.judge(o["endpoint"], request)).text
            except ProviderError as exc:
                return ScoreResult.failed(f"judge call failed: {exc}", attempts=attempt)
            rating = parse_rating(reply, high)
            if rating is not None and low <= rating.value <= high:
                return ScoreResult((rating.value - low) / (high - low), {
                    "rating": rating.value, "scale": [low, high], "reasoning": excerpt(rating.reasoning),
                    "format": rating.source, "attempts": attempt, "model": o["model"],
                })
            problem = "no rating found" if rating is None else f"rating {rating.value:g} is outside {low:g}–{high:g}"
            messages = [*messages, {"role": "assistant", "content": reply},
                        {"role": "user", "content": RETRY_PROMPT.format(low=f"{low:g}", high=f"{high:g}")}]
        return ScoreResult.failed(f"the judge's reply had no usable rating after {attempt} attempts ({problem})",
                                  attempts=attempt, last_reply=excerpt(reply, 1000), model=o["model"])

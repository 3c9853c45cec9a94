"""The agent's LLM for looplet: one of the user's endpoints, called through the sweep driver.

So the agent's calls share everything a run's calls get: the egress guard, the endpoint's
concurrency limit and retries (looplet is told not to retry again), and the owner's response cache.
Each call's usage is kept for the step that follows it; fresh tokens count against the sweep's budget,
and so does a cache entry of the sweep's own (origin_run: the sweep), whose step was lost in a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.engine.hashing import call_cache_key
from apps.engine.types import ChatRequest, Completion
from apps.runs.models import ResponseCache
from apps.runs.scoring_backend import cache_store
from apps.runs.services import recording

if TYPE_CHECKING:
    from apps.runs.driver import SweepDriver


@dataclass
class CallUsage:
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    cache_key: str = ""  # the entry the call read or stored: an experiment's cache clear removes it

    def as_dict(self) -> dict:
        return {"tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "cost_usd": round(self.cost_usd, 6),
                "cached": self.cached, "cache_key": self.cache_key}


class AgentLLM:
    """looplet's async backend protocol: `generate(prompt, ...) -> str`, with `last_usage`."""

    _looplet_manages_retries = True  # the driver's endpoint_call retries already

    def __init__(self, driver: SweepDriver, *, endpoint_id: str, model: str, temperature: float,
                 max_tokens: int) -> None:
        self.driver = driver
        self.endpoint_id = endpoint_id
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.last_usage: dict = {}
        self.last_call = CallUsage()
        self.last_text = ""

    async def generate(self, prompt: str, *, max_tokens: int | None = None, system_prompt: str = "",
                       temperature: float | None = None) -> str:
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
        messages.append({"role": "user", "content": prompt})
        request = ChatRequest(model=self.model, messages=messages,
                              params={"temperature": self.temperature, "max_tokens": self.max_tokens})
        completion, cached, key = await self._complete(request)
        spec = self.driver.endpoints[self.endpoint_id]
        self.last_call = CallUsage(0, 0, 0.0, True, key) if cached else CallUsage(
            completion.tokens_in, completion.tokens_out,
            spec.cost_usd(self.model, completion.tokens_in, completion.tokens_out), cache_key=key)
        self.last_usage = {"input_tokens": completion.tokens_in, "output_tokens": completion.tokens_out}
        self.last_text = completion.text
        return completion.text

    async def _complete(self, request: ChatRequest) -> tuple[Completion, bool, str]:
        driver = self.driver
        spec = driver.endpoints[self.endpoint_id]
        owner = driver.cache_owner
        key = call_cache_key(owner=owner, provider=spec.kind, base_url=spec.base_url, model=request.model,
                             messages=request.messages, params=request.params, repeat=0)
        hit = (await driver.db(recording.cache_get_many, owner_id=owner, keys=[key])).get(key)
        if hit is not None:
            # The sweep's own entry is a call whose step died with its driver: its tokens were never counted.
            return (Completion(hit.text, hit.tokens_in, hit.tokens_out, hit.latency_ms, hit.finish_reason),
                    hit.origin_run != driver.sweep_id, key)
        completion = await driver.endpoint_call(self.endpoint_id, lambda provider: provider.complete(request),
                                                cancelled=driver.should_stop)
        entry = ResponseCache(key=key, owner_id=owner, provider=spec.kind, base_url=spec.base_url,
                              model=request.model, response=completion.text, finish_reason=completion.finish_reason,
                              tokens_in=completion.tokens_in, tokens_out=completion.tokens_out,
                              latency_ms=completion.latency_ms, origin_run=driver.sweep_id)
        await driver.db(cache_store, entries=[entry])
        return completion, False, key

"""What scorers reach the outside world through: cached judge calls, cached embeddings, webhooks.

Judge and embedding calls use the same response cache as generation calls, scoped to the same
owner, so re-scoring costs nothing for calls already made; webhooks go out under the WEBHOOK egress
policy.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from apps.engine import egress
from apps.engine.hashing import call_cache_key, embedding_cache_key
from apps.engine.scorers.webhook import http_post_json
from apps.engine.types import ChatRequest, Completion
from apps.runs.models import ResponseCache
from apps.runs.services import recording

if TYPE_CHECKING:
    from apps.runs.llm_host import LLMHost


def cache_store(*, entries: list[ResponseCache]) -> None:
    ResponseCache.objects.bulk_create(entries, ignore_conflicts=True, batch_size=500)


class ScoringBackend:
    """`host` provides `db(fn, **kw)`, `endpoints`, `endpoint_call(endpoint_id, fn)`, `allowlist` and
    `cache_owner` (the user whose cache entries are read and written)."""

    def __init__(self, host: LLMHost) -> None:
        self.host = host
        self.webhook_client = None

    async def aclose(self) -> None:
        if self.webhook_client is not None:
            await self.webhook_client.aclose()

    async def judge(self, endpoint_id: str, request: ChatRequest) -> Completion:
        spec = self.host.endpoints[endpoint_id]
        owner = self.host.cache_owner
        key = call_cache_key(owner=owner, provider=spec.kind, base_url=spec.base_url, model=request.model,
                             messages=request.messages, params=request.params, repeat=0)
        hit = (await self.host.db(recording.cache_get_many, owner_id=owner, keys=[key])).get(key)
        if hit is not None:
            return Completion(hit.text, hit.tokens_in, hit.tokens_out, hit.latency_ms, hit.finish_reason)
        completion = await self.host.endpoint_call(endpoint_id, lambda provider: provider.complete(request))
        entry = ResponseCache(key=key, owner_id=owner, provider=spec.kind, base_url=spec.base_url, model=request.model,
                              response=completion.text, finish_reason=completion.finish_reason,
                              tokens_in=completion.tokens_in, tokens_out=completion.tokens_out,
                              latency_ms=completion.latency_ms, origin_run="judge")
        await self.host.db(cache_store, entries=[entry])
        return completion

    async def embed(self, endpoint_id: str, model: str, texts: list[str]) -> list[list[float]]:
        spec = self.host.endpoints[endpoint_id]
        owner = self.host.cache_owner
        keys = [embedding_cache_key(owner=owner, provider=spec.kind, base_url=spec.base_url, model=model, text=text)
                for text in texts]
        hits = await self.host.db(recording.cache_get_many, owner_id=owner, keys=keys)
        missing = [(key, text) for key, text in zip(keys, texts, strict=True) if key not in hits]
        vectors = {key: json.loads(hit.text) for key, hit in hits.items()}
        if missing:
            fresh = await self.host.endpoint_call(
                endpoint_id, lambda provider: provider.embed(model, [text for _, text in missing])
            )
            entries = []
            for (key, _), vector in zip(missing, fresh, strict=False):
                vectors[key] = vector
                entries.append(ResponseCache(key=key, owner_id=owner, provider=spec.kind, base_url=spec.base_url,
                                             model=model, response=json.dumps(vector), origin_run="embedding"))
            await self.host.db(cache_store, entries=entries)
        return [vectors[key] for key in keys]

    async def post_json(self, url: str, body: dict, headers: dict[str, str], timeout_s: float) -> dict:
        if self.webhook_client is None:
            self.webhook_client = egress.async_client(
                policy=egress.Policy.WEBHOOK, allowlist=self.host.allowlist, connect_timeout_s=5.0,
                read_timeout_s=30.0, max_connections=16, max_body_bytes=egress.WEBHOOK_MAX_BODY_BYTES,
            )
            self._post = http_post_json(self.webhook_client)
        return await self._post(url, body, headers, timeout_s)

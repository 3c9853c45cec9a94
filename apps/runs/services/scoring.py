"""Scoring stored outputs: compute scores, store them, summarize per scorer, rank by weighted score.

The same functions serve the sweep driver (scoring each run as it completes), retroactive
re-scoring (no generation calls: only stored outputs are read) and human ratings.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max

from apps.activity.kinds import Kind
from apps.activity.services import event_build
from apps.core.queue import enqueue_on_commit
from apps.core.types import Id
from apps.engine.config import ScorerSpec
from apps.engine.scorers.base import ScoringContext
from apps.engine.scorers.stats import summarize, weighted_score
from apps.engine.significance import NO_TEST, holm_adjusted, holm_significant
from apps.runs.models import Run, Score, ScoreSummary, Sweep
from apps.runs.significance import runs_compare

if TYPE_CHECKING:
    from apps.activity.models import Event
    from apps.experiments.models import Experiment
    from apps.runs.scoring_backend import ScoringBackend

SCORING_CONCURRENCY = 16
MAX_SMALL_P = 1000  # a sweep's significant p-values kept for Holm (beyond this, the largest are dropped)
RESCORE_TASK = "apps.runs.tasks.experiment_rescore"


@dataclass
class ScoredOutput:
    item_id: str
    repeat: int
    output: str
    stage_outputs: dict[str, str] = field(default_factory=dict)


async def score_outputs(*, specs: list[ScorerSpec], run_id: str, config: dict, items: dict[str, dict],
                        outputs: list[ScoredOutput], backend: ScoringBackend, python_enabled: bool) -> list[dict]:
    """Score every output with every computed scorer; a scorer failure becomes an errored score."""
    gate = asyncio.Semaphore(SCORING_CONCURRENCY)

    async def one(spec: ScorerSpec, out: ScoredOutput) -> dict:
        ctx = ScoringContext(
            item=items.get(out.item_id, {"id": out.item_id}), output=out.output, stage_outputs=out.stage_outputs,
            config=config, run_id=run_id, repeat=out.repeat, judge=backend.judge, embed=backend.embed,
            post_json=backend.post_json, python_enabled=python_enabled,
        )
        async with gate:
            result = await spec.scorer.evaluate(ctx)  # errors become errored scores, never exceptions
        return {"scorer_name": spec.name, "item_id": out.item_id, "repeat": out.repeat, "value": result.value,
                "error": result.error[:2000], "metadata": result.metadata}

    def broken(spec: ScorerSpec, out: ScoredOutput) -> dict:
        return {"scorer_name": spec.name, "item_id": out.item_id, "repeat": out.repeat, "value": None,
                "error": f"scorer '{spec.name}' is misconfigured: {spec.problem}"[:2000], "metadata": {}}

    jobs = [one(spec, out) for spec in specs if spec.scorer is not None for out in outputs]
    # A stored scorer that no longer validates scores nothing: each output says why instead.
    failed = [broken(spec, out) for spec in specs if spec.broken for out in outputs]
    return list(await asyncio.gather(*jobs)) + failed


def scores_store(*, run_id: Id, rows: list[dict], specs: list[ScorerSpec]) -> float | None:
    """Replace one run's computed scores (human ratings stay) and refresh its summaries."""
    return scores_store_many(entries=[(run_id, rows)], specs=specs).get(run_id)


def scores_store_many(*, entries: list[tuple[str, list[dict]]], specs: list[ScorerSpec]) -> dict[str, float | None]:
    """Store the computed scores of many runs at once; returns each run's weighted score.

    Summaries are computed from the new rows in memory plus any human ratings already stored.
    """
    run_ids = [run_id for run_id, _ in entries]
    if not run_ids:
        return {}
    with transaction.atomic():
        Score.objects.filter(run_id__in=run_ids, rated_by__isnull=True).delete()
        Score.objects.bulk_create([Score(run_id=run_id, **row) for run_id, rows in entries for row in rows],
                                  batch_size=500)
        human = {s.name for s in specs if s.human}
        rated: dict[str, list[tuple[str, float | None]]] = {}
        if human:
            for run_id, name, value in Score.objects.filter(run_id__in=run_ids, scorer_name__in=human,
                                                            rated_by__isnull=False).values_list(
                                                                "run_id", "scorer_name", "value"):
                rated.setdefault(str(run_id), []).append((name, value))
        summaries: list[ScoreSummary] = []
        weighted: dict[str, float | None] = {}
        for run_id, rows in entries:
            pairs = [(row["scorer_name"], row["value"]) for row in rows] + rated.get(str(run_id), [])
            run_summaries = summaries_from_pairs(run_id=run_id, pairs=pairs, specs=specs)
            summaries.extend(run_summaries)
            weighted[run_id] = weighted_score({x.scorer_name: x.mean for x in run_summaries},
                                              {spec.name: spec.weight for spec in specs})
        ScoreSummary.objects.filter(run_id__in=run_ids).delete()
        ScoreSummary.objects.bulk_create(summaries, batch_size=500)
        for run_id, value in weighted.items():
            Run.objects.filter(pk=run_id).update(weighted_score=value)
    return weighted


def summaries_from_pairs(*, run_id: Id, pairs: list[tuple[str, float | None]],
                         specs: list[ScorerSpec]) -> list[ScoreSummary]:
    values: dict[str, list[float]] = {spec.name: [] for spec in specs}
    errored: dict[str, int] = {spec.name: 0 for spec in specs}
    for name, value in pairs:
        if name not in values:
            continue
        if value is None:
            errored[name] += 1
        else:
            values[name].append(value)
    out = []
    for spec in specs:
        stats = summarize(values[spec.name])
        out.append(ScoreSummary(run_id=run_id, scorer_name=spec.name, weight=spec.weight, mean=stats.mean,
                                std=stats.std, n=stats.n, ci_low=stats.ci_low, ci_high=stats.ci_high,
                                errored=errored[spec.name]))
    return out


def summaries_refresh(*, run_id: Id, specs: list[ScorerSpec]) -> float | None:
    """Recompute one run's summaries and weighted score from its stored Score rows (after a rating)."""
    pairs = list(Score.objects.filter(run_id=run_id).values_list("scorer_name", "value"))
    summaries = summaries_from_pairs(run_id=run_id, pairs=pairs, specs=specs)
    ScoreSummary.objects.filter(run_id=run_id).delete()
    ScoreSummary.objects.bulk_create(summaries)
    weighted = weighted_score({x.scorer_name: x.mean for x in summaries}, {spec.name: spec.weight for spec in specs})
    Run.objects.filter(pk=run_id).update(weighted_score=weighted)
    return weighted


def experiment_best_score(*, experiment: Experiment) -> float | None:
    return (Run.objects.filter(experiment=experiment).exclude(approval=Run.Approval.REJECTED)
            .aggregate(best=Max("weighted_score"))["best"])


def experiment_best(*, experiment: Experiment, exclude: list[str] = ()) -> dict:
    """`{"score", "run_id"}` of the experiment's best non-rejected run, leaving out `exclude`."""
    top = (Run.objects.filter(experiment=experiment, weighted_score__isnull=False, partial=False)
           .exclude(approval=Run.Approval.REJECTED).exclude(pk__in=list(exclude))
           .order_by("-weighted_score", "created_at").values_list("pk", "weighted_score").first())
    return {"score": top[1], "run_id": str(top[0])} if top else {"score": None, "run_id": None}


def new_best_event(*, run_id: Id, experiment: Experiment, sweep: Sweep | Id, weighted: float,
                   kind: Kind = Kind.NEW_BEST, extra: dict | None = None) -> Event:
    """The `new_best_found` (or `best.tied`) event of a run that finished above the best (see best_decide)."""
    point = Run.objects.filter(pk=run_id).values_list("point", flat=True).first()
    scores = dict(ScoreSummary.objects.filter(run_id=run_id).values_list("scorer_name", "mean"))
    return event_build(kind=kind, experiment=experiment, sweep=sweep, run_id=run_id,
                       payload={"run_id": str(run_id), "weighted_score": weighted, "scores": scores, "config": point,
                                **(extra or {})})


def best_decide(*, run_id: Id, weighted: float | None, experiment: Experiment, sweep: Sweep | Id, best: dict,
                batch: list[str]) -> Event | None:
    """The event of a run that finished above the best so far (`best`, updated in place), else None.

    A run above the best is compared with it, paired by item: `new_best_found` when it is significantly
    better (one-sided, Holm-corrected over the sweep's comparisons at the experiment's alpha), `best.tied`
    otherwise; either way it is the best the next run must beat. The first scored run is the best
    without a test. Call inside the transaction that stored the scores of `batch` (this flush's runs).
    """
    if weighted is None or (best.get("score") is not None and weighted <= best["score"]):
        return None
    if best.get("score") is not None and not best.get("run_id"):
        # The driver knows the best score from its start; the run holding it is looked up once, leaving
        # out this flush's runs, whose scores are already stored.
        best.update(experiment_best(experiment=experiment, exclude=batch))
    previous = dict(best)
    best.update(score=weighted, run_id=str(run_id))
    if previous.get("run_id") is None or previous.get("score") is None:
        return new_best_event(run_id=run_id, experiment=experiment, sweep=sweep, weighted=weighted,
                              extra={"significance": None})
    spec = experiment.spec.scoring
    comparison = runs_compare(a=previous["run_id"], b=run_id, specs=spec, alternative="greater")
    verdict = sweep_comparison_count(sweep_id=getattr(sweep, "pk", sweep), p_value=comparison.p_value,
                                     alpha=spec.alpha, tested=comparison.test != NO_TEST)
    kind = Kind.NEW_BEST if verdict["significant"] else Kind.BEST_TIED
    return new_best_event(run_id=run_id, experiment=experiment, sweep=sweep, weighted=weighted, kind=kind, extra={
        "previous_best": {"run_id": previous["run_id"], "weighted_score": previous["score"]},
        "significance": {**comparison.as_dict(), "alpha": spec.alpha, **verdict},
    })


def sweep_comparison_count(*, sweep_id: Id, p_value: float, alpha: float, tested: bool = True) -> dict:
    """Count one more comparison in the sweep's state and decide it by Holm over all of them so far.

    The state (`Sweep.request["significance"]`) keeps the number of comparisons and the p-values at or
    below alpha: larger ones can never change a smaller one's Holm threshold. Earlier verdicts stand.
    """
    request = Sweep.objects.select_for_update().filter(pk=sweep_id).values_list("request", flat=True).first() or {}
    state = request.get("significance") or {}
    comparisons = int(state.get("comparisons", 0)) + (1 if tested else 0)
    small = [float(p) for p in state.get("small_p", [])]
    significant = tested and holm_significant(p_value, earlier=small, comparisons=comparisons, alpha=alpha)
    adjusted = holm_adjusted([*small, p_value], comparisons=comparisons)[-1] if tested else 1.0
    if tested and p_value <= alpha:
        small = sorted([*small, p_value])[:MAX_SMALL_P]
    Sweep.objects.filter(pk=sweep_id).update(
        request={**request, "significance": {"comparisons": comparisons, "small_p": small}})
    return {"significant": significant, "comparisons": comparisons, "holm_p": round(adjusted, 6)}


def rescore_enqueue(*, experiment_id: Id) -> None:
    """Queue a background re-score of every stored output (after commit; the task takes the id)."""
    enqueue_on_commit(RESCORE_TASK, str(experiment_id), task_name=f"rescore {experiment_id}")

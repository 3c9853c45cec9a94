"""The leaderboard: runs ranked by weighted score, with per-scorer intervals (one selector for all callers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Avg, BooleanField, ExpressionWrapper, F, FilteredRelation, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Lag, Lead, Rank

from apps.core.types import Id
from apps.engine.significance import NO_TEST
from apps.runs.models import Run, ScoreSummary, StageResult
from apps.runs.significance import leader_comparisons

if TYPE_CHECKING:
    from apps.experiments.models import Experiment


@dataclass
class LeaderboardRow:
    rank: int  # by weighted score whatever the sort (equal scores share it; partial runs after full ones)
    run: Run
    weighted_score: float | None
    weighted_ci: tuple[float, float] | None
    scores: dict[str, dict] = field(default_factory=dict)
    mean_latency_ms: float | None = None
    tied: bool = False
    overlaps_previous: bool = False
    overlaps_leader: bool = False  # its 95% interval overlaps the best run's: not clearly worse than #1
    # Of the rows near #1, those a paired test (is #1 better? one-sided, the experiment's alpha) cannot
    # tell from it; `best_p_value` is that test's p-value (None: not tested, e.g. clearly worse).
    tied_with_best: bool = False
    best_p_value: float | None = None

    @property
    def partial(self) -> bool:
        """Run on a subset of its sweep's items (a halving rung): ranked after every full run."""
        return self.run.sample_ids is not None

    @property
    def items_scored(self) -> int | None:
        return self.run.items_scored

    @property
    def approved(self) -> bool:
        return self.run.approval == Run.Approval.APPROVED


def ranked_runs(*, experiment: Experiment, sort: str | None = None, descending: bool = True) -> QuerySet[Run]:
    """Finished, non-rejected runs of the experiment, best first (by weighted score or one scorer's mean)."""
    return _ordered(_with_summaries(Run.objects.filter(experiment=experiment).ranked()), sort, descending)


def _with_summaries(qs: QuerySet[Run]) -> QuerySet[Run]:
    return qs.prefetch_related(Prefetch("score_summaries", queryset=ScoreSummary.objects.order_by("scorer_name")))


def _partial() -> ExpressionWrapper:
    # Runs on some of the items (halving rungs) are not competitors of full runs: they come after all of them.
    return ExpressionWrapper(Q(sample_ids__isnull=False), output_field=BooleanField())


def _rank_order() -> list:
    """What the rank follows; the index run_rank_order (runs/0012) serves it."""
    return [_partial().asc(), F("weighted_score").desc(nulls_last=True)]


def _ordered(qs: QuerySet[Run], sort: str | None, descending: bool) -> QuerySet[Run]:
    key = "weighted_score"
    if sort and sort != "weighted_score":
        # A left join, not a subquery per run: PostgreSQL hashes it (13 ms instead of 36 at 10,000 runs).
        summary = FilteredRelation("score_summaries", condition=Q(score_summaries__scorer_name=sort))
        qs = qs.annotate(sort_summary=summary).annotate(sort_mean=F("sort_summary__mean"))
        key = "sort_mean"
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    return qs.order_by(_partial().asc(), order, "position", "created_at")


def _with_rank(qs: QuerySet[Run]) -> QuerySet[Run]:
    """The weighted-score rank and the neighbours' scores in that order, as window functions: computed over
    all of the experiment's ranked runs before the page's sort and slice (select few columns with it: SQLite
    carries every selected column of every run through the window)."""
    def window(expression):
        return Window(expression, order_by=_rank_order())

    return qs.annotate(weighted_rank=window(Rank()),
                       score_above=window(Lag("weighted_score")), score_below=window(Lead("weighted_score")),
                       partial_above=window(Lag(_partial())), partial_below=window(Lead(_partial())))


RANK_FIELDS = ("weighted_rank", "score_above", "score_below", "partial_above", "partial_below")


def _shares_rank(run: Run) -> bool:
    """Its weighted score equals the one just above or below it in rank order (among full or partial runs)."""
    partial, score = run.sample_ids is not None, run.weighted_score
    return score is not None and ((run.score_above == score and bool(run.partial_above) == partial)
                                  or (run.score_below == score and bool(run.partial_below) == partial))


def weighted_interval(summaries: list[ScoreSummary]) -> tuple[float, float] | None:
    """A conservative interval for the weighted score: the weighted sum of each scorer's bounds."""
    usable = [s for s in summaries if s.mean is not None and s.ci_low is not None and s.weight > 0]
    total = sum(s.weight for s in usable)
    if not usable or total == 0:
        return None
    low = sum(s.weight * s.ci_low for s in usable) / total
    high = sum(s.weight * s.ci_high for s in usable) / total
    return round(low, 6), round(high, 6)


def intervals_overlap(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def leader(*, experiment: Experiment) -> tuple[Id | None, tuple[float, float] | None]:
    """The leaderboard's #1 and its weighted interval (one query: its summaries)."""
    top = _ordered(Run.objects.filter(experiment=experiment).ranked(), None, True).values("pk")[:1]
    summaries = list(ScoreSummary.objects.filter(run_id=top))
    return (summaries[0].run_id if summaries else None), weighted_interval(summaries)


def leaderboard_rows(*, experiment: Experiment, sort: str | None = None, descending: bool = True,
                     offset: int = 0, limit: int = 50) -> tuple[int, list[LeaderboardRow]]:
    """(total, rows) for one page in the requested order. Whatever the order, a row's rank is its weighted-score
    rank (equal scores share it), and rows whose interval overlaps the leader's (#1) are flagged, and tested
    against it; in the weighted order, so are rows whose interval overlaps the row above's."""
    qs = ranked_runs(experiment=experiment, sort=sort, descending=descending)
    total = qs.count()
    ranks = list(_with_rank(qs).values_list("pk", *RANK_FIELDS)[offset : offset + limit])
    found = _with_summaries(Run.objects.all()).in_bulk([pk for pk, *_ in ranks])
    runs = [found[pk] for pk, *_ in ranks if pk in found]
    for pk, *values in ranks:
        if pk in found:
            for name, value in zip(RANK_FIELDS, values, strict=True):
                setattr(found[pk], name, value)
    # Latency is averaged for this page's runs only: a GROUP BY over every run's stage results costs
    # ~150 ms at 10,000 runs (bench/pages.py).
    latency = dict(StageResult.objects.filter(run__in=[run.pk for run in runs]).order_by()
                   .values("run_id").annotate(mean=Avg("latency_ms")).values_list("run_id", "mean"))
    weighted_order = sort in (None, "weighted_score")
    rows: list[LeaderboardRow] = []
    previous: LeaderboardRow | None = None
    for run in runs:
        summaries = list(run.score_summaries.all())
        row = LeaderboardRow(
            rank=run.weighted_rank, run=run, weighted_score=run.weighted_score,
            weighted_ci=weighted_interval(summaries), tied=_shares_rank(run),
            scores={s.scorer_name: {"mean": s.mean, "std": s.std, "n": s.n, "ci_low": s.ci_low,
                                    "ci_high": s.ci_high, "errored": s.errored, "weight": s.weight}
                    for s in summaries},
            mean_latency_ms=latency.get(run.pk),
        )
        if weighted_order and previous is not None and row.partial == previous.partial:
            row.overlaps_previous = intervals_overlap(row.weighted_ci, previous.weighted_ci)
        rows.append(row)
        previous = row
    if rows:
        holds_leader = weighted_order and descending and offset == 0
        leader_id, interval = (rows[0].run.pk, rows[0].weighted_ci) if holds_leader else leader(experiment=experiment)
        for row in rows:
            row.overlaps_leader = row.rank > 1 and not row.partial and intervals_overlap(row.weighted_ci, interval)
        _mark_tied_with_best(experiment, rows, leader_id=leader_id)
    return total, rows


def _mark_tied_with_best(experiment: Experiment, rows: list[LeaderboardRow], *, leader_id: Id | None) -> None:
    """Paired tests against #1 for this page's rows near it only (the others are clearly worse): one query."""
    near = [row for row in rows if row.run.pk != leader_id
            and (row.overlaps_leader or (row.rank == 1 and not row.partial and row.tied))]
    if leader_id is None or not near:
        return
    scoring = experiment.spec.scoring
    tests = leader_comparisons(leader=leader_id, run_ids=[row.run.pk for row in near], specs=scoring)
    for row in near:
        test = tests[str(row.run.pk)]
        row.tied_with_best = not test.significant(scoring.alpha)
        row.best_p_value = None if test.test == NO_TEST else round(test.p_value, 6)


def best_run(*, experiment: Experiment, run_id: Id | None = None) -> Run | None:
    """The chosen run, else the top of the leaderboard (approved runs first among equals)."""
    if run_id is not None:
        return Run.objects.filter(experiment=experiment, pk=run_id).first()
    approved = ranked_runs(experiment=experiment).filter(approval=Run.Approval.APPROVED).first()
    return approved or ranked_runs(experiment=experiment).first()

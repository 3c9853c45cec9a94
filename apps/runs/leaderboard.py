"""The leaderboard: runs ranked by weighted score, with per-scorer intervals (one selector for all callers)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connections
from django.db.models import (
    Avg,
    CharField,
    F,
    FilteredRelation,
    Func,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.lookups import Exact

from apps.core.types import Id
from apps.engine.significance import NO_TEST
from apps.runs.models import Run, ScoreSummary, StageResult
from apps.runs.significance import leader_comparisons_cached

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
    revision: int = 0  # of its scores (_revision): what cached paired tests are keyed by

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


class _Unindexed(Func):
    """The column as is; on SQLite `+column`, which keeps the planner from using an index on that column for the
    term. Without statistics (no ANALYZE) SQLite looks up a scorer's summary by the unique (run, scorer) index and
    reads the row for its mean; by run alone it reads summary_run_scorer_mean (runs/0013), covering: 17 → 10 ms."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def _ordered(qs: QuerySet[Run], sort: str | None, descending: bool) -> QuerySet[Run]:
    """In the rank order (which the index run_rank_cover, runs/0013, serves), or by one scorer's mean."""
    key = "weighted_score"
    if sort and sort != "weighted_score":
        # A left join, not a subquery per run: PostgreSQL hashes it (13 ms instead of 36 at 10,000 runs).
        name = Exact(_Unindexed(F("score_summaries__scorer_name")), sort)
        summary = FilteredRelation("score_summaries", condition=Q(name))
        qs = qs.annotate(sort_summary=summary).annotate(sort_mean=F("sort_summary__mean"))
        key = "sort_mean"
    order = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_last=True)
    # Runs on some of the items (halving rungs) are not competitors of full runs: they come after all of them.
    return qs.order_by("partial", order, "position", "created_at")


RankKey = tuple[bool, float | None]  # (partial, weighted score): what the rank follows


def _sort_key(partial: bool | int, score: float | None) -> tuple:
    """Ascending in rank order: full runs first, higher scores first, no score last (as RANK() ordered them)."""
    return (bool(partial), score is None, -score if score is not None else 0.0)


def _rank_keys(qs: QuerySet[Run]) -> QuerySet:
    return qs.values_list("pk", "partial", "weighted_score")


def _ahead(ranked: QuerySet[Run], key: RankKey) -> int:
    """How many ranked runs come strictly before `key` in rank order (its rank is that + 1)."""
    partial, score = key
    better = Q(weighted_score__gt=score) if score is not None else Q(weighted_score__isnull=False)
    ahead = Q(partial=partial) & better
    if partial:
        ahead |= Q(partial=False)
    return ranked.filter(ahead).count()


def _weighted_page(ranked: QuerySet[Run], offset: int, limit: int) -> tuple[int, list[tuple[Run, int, bool]]]:
    """(total, [(run, rank, tied)]) of a page in rank order, read through the rank index with one row either
    side: a rank is the position of the first row of its tie, so only a page that opens inside a tie counts
    the runs ahead of it (no window over every run: 45 ms at 10,000 runs on SQLite). The page's rows come
    whole from that read (no second query by id)."""
    start = max(0, offset - 1)
    window = [(run, (bool(run.partial), run.weighted_score))
              for run in _ordered(ranked, None, True)[start : offset + limit + 1]]
    out: list[tuple[Run, int, bool]] = []
    for index in range(offset - start, min(len(window), offset - start + limit)):
        run, key = window[index]
        above = window[index - 1][1] if index > 0 else None
        below = window[index + 1][1] if index + 1 < len(window) else None
        if key != above:
            rank = start + index + 1
        elif out:
            rank = out[-1][1]
        else:
            rank = _ahead(ranked, key) + 1
        out.append((run, rank, key[1] is not None and key in (above, below)))
    return ranked.count(), out


def _all_rank_keys(ranked: QuerySet[Run]) -> list[tuple]:
    """Every ranked run's (partial, weighted score) in rank order, off the index run_rank_cover. Raw rows:
    the ORM's per-row conversions cost more than the read (10 ms against 4 at 10,000 runs)."""
    sql, params = (ranked.order_by("partial", F("weighted_score").desc(nulls_last=True))
                   .values_list("partial", "weighted_score").query.sql_with_params())
    with connections[ranked.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sorted_page(ranked: QuerySet[Run], page: QuerySet[Run], offset: int,
                 limit: int) -> tuple[int, list[tuple[Id, int, bool]]]:
    """(total, [(run id, rank, tied)]) of a page in another order: a row's rank is where its key first appears
    among every ranked run's (a binary search), and it is tied when the key appears more than once."""
    keys = _all_rank_keys(ranked)
    out = []
    for pk, partial, score in _rank_keys(page)[offset : offset + limit]:
        key = _sort_key(partial, score)
        first = bisect_left(keys, key, key=lambda row: _sort_key(*row))
        after = bisect_right(keys, key, lo=first, key=lambda row: _sort_key(*row))
        out.append((pk, first + 1, score is not None and after - first > 1))
    return len(keys), out


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
    leader_id, interval, _ = _leader(experiment)
    return leader_id, interval


def _leader(experiment: Experiment) -> tuple[Id | None, tuple[float, float] | None, int]:
    top = _ordered(Run.objects.filter(experiment=experiment).ranked(), None, True).values("pk")[:1]
    summaries = list(ScoreSummary.objects.filter(run_id=top))
    return (summaries[0].run_id if summaries else None), weighted_interval(summaries), _revision(summaries)


def _revision(summaries: list[ScoreSummary]) -> int:
    """Which version of a run's scores this is: rescoring and rating rewrite its summaries (new ids)."""
    return max((summary.pk for summary in summaries), default=0)


def leaderboard_rows(*, experiment: Experiment, sort: str | None = None, descending: bool = True,
                     offset: int = 0, limit: int = 50) -> tuple[int, list[LeaderboardRow]]:
    """(total, rows) for one page in the requested order. Whatever the order, a row's rank is its weighted-score
    rank (equal scores share it), and rows whose interval overlaps the leader's (#1) are flagged, and tested
    against it; in the weighted order, so are rows whose interval overlaps the row above's."""
    ranked = Run.objects.filter(experiment=experiment).ranked()
    weighted_order = sort in (None, "weighted_score")
    if weighted_order and descending:
        total, runs = _weighted_page(ranked, offset, limit)
    else:
        total, ranks = _sorted_page(ranked, _ordered(ranked, sort, descending), offset, limit)
        found = Run.objects.in_bulk([pk for pk, _, _ in ranks])
        runs = [(found[pk], rank, tied) for pk, rank, tied in ranks if pk in found]
    ids = [run.pk for run, _, _ in runs]
    # Grouped here rather than prefetched: prefetch_related clones a queryset per run (~5 ms a page).
    summaries_of: dict[Id, list[ScoreSummary]] = defaultdict(list)
    for summary in ScoreSummary.objects.filter(run_id__in=ids).order_by("scorer_name"):
        summaries_of[summary.run_id].append(summary)
    # Latency is averaged for this page's runs only: a GROUP BY over every run's stage results costs
    # ~150 ms at 10,000 runs (bench/pages.py).
    latency = dict(StageResult.objects.filter(run__in=[run.pk for run, _, _ in runs]).order_by()
                   .values("run_id").annotate(mean=Avg("latency_ms")).values_list("run_id", "mean"))
    rows: list[LeaderboardRow] = []
    previous: LeaderboardRow | None = None
    for run, rank, tied in runs:
        summaries = summaries_of[run.pk]
        row = LeaderboardRow(
            rank=rank, run=run, weighted_score=run.weighted_score,
            weighted_ci=weighted_interval(summaries), tied=tied,
            scores={s.scorer_name: {"mean": s.mean, "std": s.std, "n": s.n, "ci_low": s.ci_low,
                                    "ci_high": s.ci_high, "errored": s.errored, "weight": s.weight}
                    for s in summaries},
            mean_latency_ms=latency.get(run.pk), revision=_revision(summaries),
        )
        if weighted_order and previous is not None and row.partial == previous.partial:
            row.overlaps_previous = intervals_overlap(row.weighted_ci, previous.weighted_ci)
        rows.append(row)
        previous = row
    if rows:
        holds_leader = weighted_order and descending and offset == 0
        if holds_leader:
            leader_id, interval, revision = rows[0].run.pk, rows[0].weighted_ci, rows[0].revision
        else:
            leader_id, interval, revision = _leader(experiment)
        for row in rows:
            row.overlaps_leader = row.rank > 1 and not row.partial and intervals_overlap(row.weighted_ci, interval)
        _mark_tied_with_best(experiment, rows, leader=(leader_id, revision))
    return total, rows


def _mark_tied_with_best(experiment: Experiment, rows: list[LeaderboardRow], *,
                         leader: tuple[Id | None, int]) -> None:
    """Paired tests against #1 for this page's rows near it only (the others are clearly worse), cached by
    score revision: at most one query."""
    leader_id = leader[0]
    near = [row for row in rows if row.run.pk != leader_id
            and (row.overlaps_leader or (row.rank == 1 and not row.partial and row.tied))]
    if leader_id is None or not near:
        return
    scoring = experiment.spec.scoring
    tests = leader_comparisons_cached(leader=(leader_id, leader[1]),
                                      runs={row.run.pk: row.revision for row in near}, specs=scoring)
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

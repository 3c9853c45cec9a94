"""Read models behind the leaderboard and score-chart pages (and their live pushes): one page of ranked
rows with its columns, and the runs a chart plots. Both wrap `apps.runs.leaderboard`, as the REST API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import TYPE_CHECKING, Any

from apps.core.types import Id, Viewer
from apps.experiments.secrets import point_endpoints_masked
from apps.runs.leaderboard import LeaderboardRow, leaderboard_rows
from apps.runs.masking import endpoints_hidden
from apps.runs.models import Run

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

WEIGHTED = "weighted_score"
PER_PAGE = 25


@dataclass(frozen=True)
class BoardRow:
    rank: int
    run: Run
    weighted_score: float | None
    weighted_ci: tuple[float, float] | None
    n: int
    items_scored: int | None  # items the run produced outputs for
    partial: bool  # run on a subset of the items (a halving rung): ranked after every full run
    scores: list[float | None]  # one per scorer column, in column order
    point: list[Any]  # one per axis column (endpoint ids masked for readers other than the owner)
    tied: bool  # an equal weighted score shares its rank
    near_leader: bool  # its 95% interval overlaps #1's: not clearly worse than the best
    tied_with_best: bool = False  # near #1, and a paired test by item cannot tell it from #1
    best_p_value: float | None = None  # that test's p-value (None: not tested)

    @property
    def dom_id(self) -> str:
        return f"run-row-{self.run.pk}"

    @property
    def approved(self) -> bool:
        return self.run.approval == Run.Approval.APPROVED


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    total: int
    scorers: list[str]
    axes: list[str]
    sort: str
    descending: bool
    number: int
    num_pages: int

    @property
    def live(self) -> bool:
        """The view live pushes keep current: the first page in the default order."""
        return self.number == 1 and self.sort == WEIGHTED and self.descending

    @property
    def column_count(self) -> int:
        """Columns a row has: pick, rank, weighted score, n, items, one per scorer and axis, status, actions."""
        return 7 + len(self.scorers) + len(self.axes)

    @property
    def has_partial(self) -> bool:
        return any(row.partial for row in self.rows)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def board_page(*, experiment: Experiment, viewer: Viewer, sort: str = WEIGHTED, descending: bool = True,
               page: int = 1, per_page: int = PER_PAGE) -> BoardPage:
    """One page of the leaderboard (an unknown sort: by weighted score; a page past the end: the last)."""
    scorers = list(experiment.spec.scoring.names())
    sort = sort if sort in scorers else WEIGHTED
    page = max(1, page)
    total, rows = leaderboard_rows(experiment=experiment, sort=sort, descending=descending,
                                   offset=(page - 1) * per_page, limit=per_page)
    num_pages = max(1, ceil(total / per_page))
    if page > num_pages:
        page = num_pages
        total, rows = leaderboard_rows(experiment=experiment, sort=sort, descending=descending,
                                       offset=(page - 1) * per_page, limit=per_page)
    axes = [axis.path for axis in experiment.spec.space]
    hidden = endpoints_hidden(viewer=viewer, owner_id=experiment.project.owner_id)
    board_rows = [_board_row(row, scorers=scorers, axes=axes, hidden=hidden) for row in rows]
    return BoardPage(rows=board_rows, total=total, scorers=scorers, axes=axes, sort=sort, descending=descending,
                     number=page, num_pages=num_pages)


def board_row(*, experiment: Experiment, viewer: Viewer, run: Run) -> BoardRow | None:
    """One run's row as the default leaderboard ranks it (None: not ranked, e.g. rejected)."""
    ranked = Run.objects.filter(experiment=experiment).ranked()
    partial = run.sample_ids is not None
    # A partial run (a halving rung) ranks after every full run and among partial ones by score.
    ahead = ranked.filter(partial=False).count() if partial else 0
    peers = ranked.filter(partial=partial)
    if run.weighted_score is None:
        above = ahead + peers.exclude(weighted_score=None).count()
    else:
        above = ahead + peers.filter(weighted_score__gt=run.weighted_score).count()
    offset = max(0, above - 1)  # from the row above, so a tie with it is marked
    _, rows = leaderboard_rows(experiment=experiment, offset=offset, limit=PER_PAGE)
    axes = [axis.path for axis in experiment.spec.space]
    scorers = list(experiment.spec.scoring.names())
    hidden = endpoints_hidden(viewer=viewer, owner_id=experiment.project.owner_id)
    for row in rows:
        if row.run.pk == run.pk:
            return _board_row(row, scorers=scorers, axes=axes, hidden=hidden)
    return None


def _board_row(row: LeaderboardRow, *, scorers: list[str], axes: list[str], hidden: bool) -> BoardRow:
    point = point_endpoints_masked(row.run.point) if hidden else (row.run.point or {})
    return BoardRow(
        rank=row.rank, run=row.run, weighted_score=row.weighted_score, weighted_ci=row.weighted_ci,
        n=max((summary["n"] for summary in row.scores.values()), default=0),
        items_scored=row.items_scored, partial=row.partial,
        scores=[row.scores.get(name, {}).get("mean") for name in scorers],
        point=[point.get(path) for path in axes],
        tied=row.tied, near_leader=row.overlaps_leader, tied_with_best=row.tied_with_best,
        best_p_value=row.best_p_value,
    )


@dataclass(frozen=True)
class ChartRun:
    order: int  # 1 = the first run to finish
    run_id: Id
    score: float
    point: dict[str, Any]


@dataclass(frozen=True)
class ChartData:
    total: int  # runs with a weighted score
    sample: list[ChartRun]  # every run, or an even sample of at most MAX_CHART_POINTS by finish order
    steps: list[tuple[int, float]]  # (finish order, score) of each run that raised (or equalled) the best so far
    best: ChartRun | None


MAX_CHART_POINTS = 400


def chart_data(*, experiment: Experiment, limit: int = MAX_CHART_POINTS) -> ChartData:
    """What the score chart plots, at a bounded cost: every score (floats only) for best-so-far, and the
    points of at most `limit` runs (an even sample past that, always with the best run)."""
    scored = Run.objects.filter(experiment=experiment).ranked().exclude(weighted_score=None)
    scores = list(scored.order_by("completed_at", "created_at").values_list("weighted_score", flat=True))
    steps, best_so_far = [], None
    for order, score in enumerate(scores, start=1):
        if best_so_far is None or score >= best_so_far:
            steps.append((order, score))
            best_so_far = score
    if not scores:
        return ChartData(total=0, sample=[], steps=[], best=None)
    fields = ("pk", "weighted_score", "point", "completed_at", "created_at")
    if len(scores) <= limit:
        picked = list(scored.values_list(*fields))
    else:  # run ids are random (uuid4): the lowest ones are an even sample that stays put from push to push
        picked = list(scored.order_by("pk")[:limit].values_list(*fields))
        top = scored.order_by("-weighted_score").values_list(*fields)[0]
        if top[0] not in {row[0] for row in picked}:
            picked[-1] = top
    picked = sorted(picked, key=lambda row: (row[3] is None, row[3] or row[4], row[4]))
    sample = [ChartRun(order=index, run_id=pk, score=score, point=point or {})
              for index, (pk, score, point, _, _) in enumerate(picked, start=1)]
    best = max(sample, key=lambda run: (run.score, -run.order))
    return ChartData(total=len(scores), sample=sample, steps=steps, best=best)

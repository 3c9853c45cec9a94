"""Runs: one configuration run now, the leaderboard, one run's detail, approval, forking and human scores."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from pydantic import BaseModel, Field, model_validator

from apps.core.errors import InvalidInput
from apps.experiments.selectors import experiment_get
from apps.mcp.registry import Args, Call, ToolSpec
from apps.mcp.tools.sweeps import MAX_WAIT_S, sweep_out, sweep_wait
from apps.runs import selectors
from apps.runs.label_reports import RunLabelReport, run_label_reports
from apps.runs.leaderboard import leaderboard_rows
from apps.runs.models import Run
from apps.runs.run_outputs import run_item_ids, run_item_outputs, run_summaries
from apps.runs.services import runs as run_services
from apps.runs.services.ratings import run_rate
from apps.runs.services.transitions import SWEEP_FINAL

OUTPUT_ITEMS = 20  # items shown by get_run_detail; the web page and REST page through the rest


class ScorerSummary(BaseModel):
    mean: float | None
    std: float | None
    n: int
    ci_low: float | None
    ci_high: float | None
    errored: int
    weight: float


class LeaderboardRow(BaseModel):
    rank: int
    run_id: str
    status: str
    approved: bool
    point: dict[str, Any] = Field(description="Parameter values by path.")
    weighted_score: float | None
    weighted_ci: list[float] | None
    items_scored: int | None = Field(description="Items the run was scored on.")
    partial: bool = Field(description="Scored on a subset of the items (a halving rung); partial runs rank after "
                                      "every run on all items.")
    tied: bool
    overlaps_previous: bool = Field(description="Its interval overlaps the row above's: not clearly worse.")
    overlaps_leader: bool = Field(description="Its interval overlaps #1's (weighted order only; false for #1).")
    tied_with_best: bool = Field(description="Near #1, and a paired test by item cannot tell it from #1 at the "
                                             "experiment's alpha (docs/significance.md).")
    best_p_value: float | None = Field(description="That test's one-sided p-value (#1 better than this run); null "
                                                   "when not tested.")
    scores: dict[str, ScorerSummary]
    tokens_in: int
    tokens_out: int
    cost_usd: str
    mean_latency_ms: float | None


class Leaderboard(BaseModel):
    count: int
    sort: str
    results: list[LeaderboardRow]


class StageOutput(BaseModel):
    stage: str
    model: str
    output: str
    error: str
    latency_ms: int | None
    cached: bool


class ItemOutput(BaseModel):
    item_id: str
    repeat: int
    stages: list[StageOutput]
    scores: dict[str, float | None]


class LabelStats(BaseModel):
    label: str
    precision: float | None = Field(description="Null: nothing was predicted as this label.")
    recall: float | None = Field(description="Null: no item expects this label.")
    f1: float | None
    support: int = Field(description="Items that expect this label.")
    predicted: int = Field(description="Items predicted as this label.")


class ConfusionRow(BaseModel):
    expected: str
    counts: list[int] = Field(description="Per column of `columns`.")


class LabelReport(BaseModel):
    scorer: str
    n: int = Field(description="Scored items (and repeats) with an expected label.")
    correct: int
    accuracy: float | None
    macro_f1: float | None
    errored: int = Field(description="Items the scorer could not score.")
    labels: list[LabelStats]
    columns: list[str] = Field(description='Predicted labels, then "(other)" when an output named none.')
    matrix: list[ConfusionRow] = Field(description="The confusion matrix: one row per expected label.")


class RunDetail(BaseModel):
    id: str
    experiment_id: str
    sweep_id: str | None
    status: str
    approval: str
    point: dict[str, Any]
    config: dict[str, Any]
    config_hash: str
    weighted_score: float | None
    scores: dict[str, ScorerSummary]
    tokens_in: int
    tokens_out: int
    cost_usd: str
    duration_ms: int | None
    calls: int
    cache_hits: int
    error: str
    items_total: int
    items_scored: int | None = Field(description="Items the run was scored on (fewer on a halving rung).")
    label_reports: list[LabelReport] = Field(description="Per classification scorer: accuracy, per-label "
                                             "precision/recall/F1 and the confusion matrix; empty without one.")
    outputs: list[ItemOutput] = Field(description=f"The first {OUTPUT_ITEMS} items' outputs and scores.")


class SingleRun(BaseModel):
    run_id: str
    sweep_id: str
    status: str = Field(description="pending, running, completed, cached (every call from the cache) or failed.")
    finished: bool = Field(description="True once the run has an outcome (or its sweep was stopped).")
    point: dict[str, Any]
    config_hash: str
    weighted_score: float | None
    scores: dict[str, ScorerSummary]
    calls: int
    cache_hits: int
    tokens_in: int
    tokens_out: int
    cost_usd: str
    duration_ms: int | None
    error: str


class RunState(BaseModel):
    run_id: str
    status: str
    approval: str
    weighted_score: float | None


class Forked(BaseModel):
    experiment_id: str
    name: str
    project_id: str


class Rating(BaseModel):
    scorer: str
    value: float | None
    item_id: str
    weighted_score: float | None


class LeaderboardArgs(Args):
    experiment_id: uuid.UUID
    sort: str = Field("weighted_score", max_length=100, description="weighted_score or a scorer's name.")
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(20, ge=1, le=500)
    offset: int = Field(0, ge=0)


class RunIdArgs(Args):
    run_id: uuid.UUID


class RunSingleArgs(Args):
    experiment_id: uuid.UUID
    point: dict[str, Any] = Field(default_factory=dict, description="Parameter values by path, applied to the "
                                  "stages, e.g. {\"stages.0.params.temperature\": 0.2, \"stages.0.model\": \"m\"}.")
    pipeline_stages: list[dict[str, Any]] | None = Field(None, max_length=settings.MAX_STAGES,
                                                         description="Instead of the experiment's stages.")
    items: list[dict[str, Any]] | None = Field(None, max_length=1000, description="Inline sample items "
                                               "({id, input, reference?, expected?}) instead of the experiment's.")
    repeats: int | None = Field(None, ge=1, le=100, description="Default: the experiment's.")
    wait: bool = Field(False, description="Return only when the run has finished (or timeout_s passed); sends "
                                          "progress notifications when you pass a progress token.")
    timeout_s: float = Field(600, gt=0, le=MAX_WAIT_S, description="How long wait waits at most.")


class ForkArgs(RunIdArgs):
    name: str | None = Field(None, max_length=200)
    parameter_space: list[dict[str, Any]] = Field(default_factory=list, description="The fork's own axes.")


class HumanScoreArgs(RunIdArgs):
    thumbs: Literal["up", "down"] | None = None
    stars: int | None = Field(None, ge=1, le=5)
    scorer: str | None = Field(None, max_length=100, description="A human scorer's name (default: the first).")
    item_id: str | None = Field(None, max_length=200, description="Rate one item; leave out to rate the run.")
    repeat: int | None = Field(None, ge=0)
    comment: str = Field("", max_length=5000)

    @model_validator(mode="after")
    def _one_rating(self):
        if (self.thumbs is None) == (self.stars is None):
            raise ValueError("thumbs: give either thumbs (up/down) or stars (1-5)")
        return self


def _summaries(rows) -> dict[str, ScorerSummary]:
    return {s.scorer_name: ScorerSummary(mean=s.mean, std=s.std, n=s.n, ci_low=s.ci_low, ci_high=s.ci_high,
                                         errored=s.errored, weight=s.weight) for s in rows}


def single_run(run) -> SingleRun:
    return SingleRun(
        run_id=str(run.pk), sweep_id=str(run.sweep_id), status=run.status,
        finished=run.status in Run.TERMINAL or run.sweep.status in SWEEP_FINAL, point=run.point,
        config_hash=run.config_hash, weighted_score=run.weighted_score, scores=_summaries(run_summaries(run=run)),
        calls=run.calls, cache_hits=run.cache_hits, tokens_in=run.tokens_in, tokens_out=run.tokens_out,
        cost_usd=str(run.cost_estimate), duration_ms=run.duration_ms, error=run.error)


def _run_adhoc(call: Call, args: RunSingleArgs):
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    run = run_services.run_adhoc(user=call.user, experiment=experiment, point=args.point,
                                 pipeline_stages=args.pipeline_stages, items=args.items, repeats=args.repeats)
    return run, sweep_out(run.sweep)


def _run_read(call: Call, run_id) -> SingleRun:
    return single_run(selectors.run_get(user=call.user, run_id=run_id, outputs=False))


async def run_single(call: Call, args: RunSingleArgs) -> SingleRun:
    run, sweep = await sync_to_async(_run_adhoc)(call, args)
    if args.wait:
        await sweep_wait(call, sweep, timeout_s=args.timeout_s)
    return await sync_to_async(_run_read)(call, run.pk)


def get_leaderboard(call: Call, args: LeaderboardArgs) -> Leaderboard:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    names = set(experiment.spec.scoring.names()) | {"human"}
    if args.sort != "weighted_score" and args.sort not in names:
        raise InvalidInput(errors={"sort": [f"Sort by weighted_score or a scorer: {', '.join(sorted(names))}."]})
    total, rows = leaderboard_rows(experiment=experiment, sort=args.sort, descending=args.order == "desc",
                                   offset=args.offset, limit=args.limit)
    return Leaderboard(count=total, sort=args.sort, results=[LeaderboardRow(
        rank=row.rank, run_id=str(row.run.pk), status=row.run.status, approved=row.approved, point=row.run.point,
        weighted_score=row.weighted_score, weighted_ci=list(row.weighted_ci) if row.weighted_ci else None,
        items_scored=row.items_scored, partial=row.partial, tied=row.tied, overlaps_previous=row.overlaps_previous,
        overlaps_leader=row.overlaps_leader, tied_with_best=row.tied_with_best, best_p_value=row.best_p_value,
        scores=row.scores, tokens_in=row.run.tokens_in,
        tokens_out=row.run.tokens_out, cost_usd=str(row.run.cost_estimate),
        mean_latency_ms=None if row.mean_latency_ms is None else round(row.mean_latency_ms, 1),
    ) for row in rows])


def _item_outputs(run) -> tuple[int, list[ItemOutput]]:
    ids = run_item_ids(run=run)
    outputs = []
    for item in run_item_outputs(run=run, item_ids=list(ids[:OUTPUT_ITEMS])):
        for rep in item.repeats:
            outputs.append(ItemOutput(
                item_id=item.item_id, repeat=rep.repeat,
                stages=[StageOutput(stage=s.stage_name, model=s.model_used, output=s.response_raw, error=s.error,
                                    latency_ms=s.latency_ms, cached=s.cached) for s in rep.stages],
                scores={score.scorer_name: score.value for score in rep.scores}))
    return ids.count(), outputs


def label_report(entry: RunLabelReport) -> LabelReport:
    report = entry.report
    return LabelReport(
        scorer=entry.scorer_name, n=report.n, correct=report.correct, accuracy=report.accuracy,
        macro_f1=report.macro_f1, errored=entry.errored, columns=list(report.columns),
        labels=[LabelStats(label=s.label, precision=s.precision, recall=s.recall, f1=s.f1, support=s.support,
                           predicted=s.predicted) for s in report.labels],
        matrix=[ConfusionRow(expected=label, counts=list(counts)) for label, counts in report.matrix])


def get_run_detail(call: Call, args: RunIdArgs) -> RunDetail:
    run = selectors.run_get(user=call.user, run_id=args.run_id, outputs=False)
    total, outputs = _item_outputs(run)
    return RunDetail(
        id=str(run.pk), experiment_id=str(run.experiment_id), sweep_id=str(run.sweep_id) if run.sweep_id else None,
        status=run.status, approval=run.approval, point=run.point, config=run.config, config_hash=run.config_hash,
        weighted_score=run.weighted_score, scores=_summaries(run_summaries(run=run)), tokens_in=run.tokens_in,
        tokens_out=run.tokens_out, cost_usd=str(run.cost_estimate), duration_ms=run.duration_ms, calls=run.calls,
        cache_hits=run.cache_hits, error=run.error, items_total=total, items_scored=run.items_scored,
        label_reports=[label_report(entry) for entry in run_label_reports(run=run)], outputs=outputs)


def _approval(value: str):
    def set_approval(call: Call, args: RunIdArgs) -> RunState:
        run = run_services.run_set_approval(run=selectors.run_get(user=call.user, run_id=args.run_id, outputs=False),
                                            approval=value)
        return RunState(run_id=str(run.pk), status=run.status, approval=run.approval,
                        weighted_score=run.weighted_score)

    return set_approval


def fork_run(call: Call, args: ForkArgs) -> Forked:
    run = selectors.run_get(user=call.user, run_id=args.run_id, outputs=False)
    fork = run_services.experiment_fork(user=call.user, run=run, parameter_space=args.parameter_space,
                                        name=args.name)
    return Forked(experiment_id=str(fork.pk), name=fork.name, project_id=str(fork.project_id))


def add_human_score(call: Call, args: HumanScoreArgs) -> Rating:
    run = selectors.run_get(user=call.user, run_id=args.run_id, outputs=False)
    rating = {"thumbs": args.thumbs} if args.thumbs is not None else {"stars": args.stars}
    score = run_rate(user=call.user, run=run, rating=rating, scorer=args.scorer, item_id=args.item_id,
                     repeat=args.repeat, comment=args.comment)
    run.refresh_from_db(fields=["weighted_score"])
    return Rating(scorer=score.scorer_name, value=score.value, item_id=score.item_id,
                  weighted_score=run.weighted_score)


TOOLS = [
    ToolSpec("run_single", "Run one configuration now: the experiment's stages with a point's parameter values "
             "(or other stages), over its sample items (or inline items). With wait=true, return when it has "
             "finished, with its scores.", RunSingleArgs, SingleRun, run_single, open_world=True),
    ToolSpec("get_leaderboard", "Finished runs ranked by weighted score (or one scorer), with 95% confidence "
             "intervals, the items each was scored on, and which runs a paired test cannot tell from #1; "
             "rejected runs are left out.", LeaderboardArgs, Leaderboard, get_leaderboard, read_only=True,
             idempotent=True),
    ToolSpec("get_run_detail", "One run: its configuration, scores, tokens, cost, classification reports "
             "(accuracy, per-label F1, confusion matrix) and the outputs of its first items.", RunIdArgs,
             RunDetail, get_run_detail, read_only=True, idempotent=True),
    # Not idempotent: each call puts another run.approved / run.rejected event on the timeline.
    ToolSpec("approve_run", "Mark a run approved (preferred by exports among equals).", RunIdArgs, RunState,
             _approval("approved")),
    ToolSpec("reject_run", "Reject a run: it leaves the leaderboard and is never exported.", RunIdArgs, RunState,
             _approval("rejected")),
    ToolSpec("fork_run", "A new experiment whose stages are this run's configuration, with a new parameter space.",
             ForkArgs, Forked, fork_run),
    ToolSpec("add_human_score", "Rate a run (or one item of it) with thumbs or stars; updates its weighted score.",
             HumanScoreArgs, Rating, add_human_score),
]

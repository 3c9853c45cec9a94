"""Reads for exports: which run to export, the baseline, endpoint labels and report figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Avg, Count, F, QuerySet

from apps.core.errors import NotFound
from apps.core.types import Id
from apps.endpoints.models import Endpoint
from apps.engine.config_paths import ConfigPathError, get_path
from apps.engine.hashing import canonical_json
from apps.exports.models import ExportRecord
from apps.exports.redaction import safe_url
from apps.projects.models import Project
from apps.runs.leaderboard import best_run, ranked_runs
from apps.runs.models import Run, Score, ScoreSummary, Sweep

if TYPE_CHECKING:
    from apps.experiments.models import Experiment

BASELINE_CANDIDATES = 5000
MAX_COMMENTS = 50


@dataclass(frozen=True)
class EndpointInfo:
    label: str
    url: str
    kind: str


def endpoint_directory(
    *, owner_id: Id, endpoint_ids: Iterable[Id | None], with_urls: bool = True
) -> dict[str, EndpointInfo]:
    """Label, credential-free URL and kind of the owner's endpoints with these ids (never the key).

    Without URLs (a reader other than the owner) each `url` is "".
    """
    ids = {str(e) for e in endpoint_ids if e}
    rows = Endpoint.objects.filter(owner_id=owner_id, pk__in=ids).values_list("id", "label", "base_url", "kind")
    return {str(pk): EndpointInfo(label=label, url=safe_url(url) if with_urls else "", kind=kind)
            for pk, label, url, kind in rows}


def _finished_in(experiment: Experiment, run_id: Id, *, what: str) -> Run:
    run = best_run(experiment=experiment, run_id=run_id)
    if run is None:
        raise NotFound(f"The {what} run {run_id} is not part of this experiment.")
    if run.status not in Run.FINISHED:
        raise NotFound(f"The {what} run {run_id} has not finished (status: {run.status}).")
    return run


def export_run_choose(*, experiment: Experiment, run_id: Id | None = None) -> Run:
    """The chosen finished run, else the leaderboard's best (approved first; rejected never)."""
    if run_id is not None:
        return _finished_in(experiment, run_id, what="chosen")
    run = best_run(experiment=experiment)
    if run is not None and run.status not in Run.FINISHED:
        # The leaderboard also lists failed runs; an export needs one that finished.
        ranked = ranked_runs(experiment=experiment).finished()
        run = ranked.filter(approval=Run.Approval.APPROVED).first() or ranked.first()
    if run is None:
        raise NotFound(
            "This experiment has no finished runs to export yet (rejected runs are never exported as best)."
        )
    return run


def _distance(base: dict, point: dict) -> int:
    """How many of the point's settings differ from the base config."""
    differing = 0
    for path, value in (point or {}).items():
        try:
            same = canonical_json(get_path(base, path)) == canonical_json(value)
        except (ConfigPathError, TypeError, ValueError):
            same = False
        differing += not same
    return differing


def baseline_run(*, experiment: Experiment, run_id: Id | None = None) -> Run | None:
    """The chosen run, else the finished run closest to the experiment's base config (earliest sweep first)."""
    if run_id is not None:
        return _finished_in(experiment, run_id, what="baseline")
    base = {"stages": experiment.pipeline_stages}
    candidates = (
        Run.objects.filter(experiment=experiment).finished()
        .order_by(F("sweep__created_at").asc(nulls_last=True), "position", "created_at")
        .values_list("id", "point")[:BASELINE_CANDIDATES]
    )
    best_id, best_distance = None, None
    for pk, point in candidates:
        distance = _distance(base, point)
        if best_distance is None or distance < best_distance:
            best_id, best_distance = pk, distance
            if distance == 0:
                break
    return Run.objects.get(pk=best_id) if best_id else None


def run_summaries(*, run: Run) -> list[ScoreSummary]:
    return list(ScoreSummary.objects.filter(run=run).order_by("scorer_name"))


def experiment_sweeps(*, experiment: Experiment, limit: int = 20) -> tuple[int, list[Sweep]]:
    qs = Sweep.objects.filter(experiment=experiment).order_by("created_at")
    fields = ("id", "kind", "status", "runs_total", "runs_done", "created_at", "parameter_space")
    return qs.count(), list(qs.only(*fields)[:limit])


def experiment_run_counts(*, experiment: Experiment) -> dict[str, int]:
    runs = Run.objects.filter(experiment=experiment)
    counts = runs.counts_by_status()
    approvals = dict(runs.exclude(approval="").order_by().values_list("approval").annotate(n=Count("id")))
    return {**counts, "total": sum(counts.values()), "approved": approvals.get(Run.Approval.APPROVED, 0),
            "rejected": approvals.get(Run.Approval.REJECTED, 0)}


def experiment_totals(*, experiment: Experiment) -> dict:
    """Tokens, cost and cache hits summed over every run of the experiment."""
    totals = Run.objects.filter(experiment=experiment).totals()
    totals["cache_hit_rate"] = totals["cache_hits"] / totals["calls"] if totals["calls"] else None
    return totals


def human_ratings(*, experiment: Experiment) -> dict:
    """Ratings people entered: count, mean and the latest comments."""
    qs = Score.objects.filter(run__experiment=experiment, rated_by__isnull=False)
    stats = qs.aggregate(count=Count("id"), mean=Avg("value"))
    commented = (
        qs.filter(metadata__has_key="comment").exclude(metadata__comment="").order_by("-created_at")
        .values_list("run_id", "scorer_name", "item_id", "value", "metadata")[:MAX_COMMENTS]
    )
    comments = [{"run_id": str(run_id), "scorer": scorer, "item_id": item_id, "value": value,
                 "comment": str(metadata["comment"])} for run_id, scorer, item_id, value, metadata in commented]
    return {**stats, "comments": comments}


def export_list(*, project: Project) -> QuerySet[ExportRecord]:
    """The project's export history, newest first."""
    return (
        ExportRecord.objects.filter(project=project)
        .select_related("experiment", "created_by")
        .order_by("-created_at")
    )

"""The rating queue: final outputs of an experiment's finished runs that no person has rated yet.

A finished run (completed or cached) produced every item × repeat, so its final output is the result of
the highest stage stored for that item × repeat: the rule of apps.runs.outputs, asked in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.core.types import Id
from apps.engine.config import ScorerSpec
from apps.runs.models import Run, Score, StageResult
from apps.runs.services.ratings import IMPLICIT_SPEC

if TYPE_CHECKING:
    from apps.experiments.models import Experiment


@dataclass(frozen=True)
class QueueEntry:
    result: StageResult  # the final stage's result; `.run` is selected
    item: dict  # the sample item (input, reference), {} when the experiment does not hold it
    position: int  # 0-based among the outputs still unrated


def rating_scorer(*, experiment: Experiment) -> ScorerSpec:
    """The scorer a rating counts under when none is named: the first human scorer, else weight-0 `human`."""
    human = experiment.spec.scoring.human()
    return human[0] if human else IMPLICIT_SPEC


def _rated(scorer_name: str) -> Exists:
    # A rating for the item without a repeat covers all its repeats.
    return Exists(Score.objects.filter(
        run_id=OuterRef("run_id"), item_id=OuterRef("item_id"), scorer_name=scorer_name, rated_by__isnull=False,
    ).filter(Q(repeat=OuterRef("repeat")) | Q(repeat__isnull=True)))


def final_outputs(*, experiment: Experiment) -> QuerySet[StageResult]:
    """Every final output of the experiment's finished runs, in plan order."""
    later = StageResult.objects.filter(run_id=OuterRef("run_id"), item_id=OuterRef("item_id"),
                                       repeat=OuterRef("repeat"), stage_index__gt=OuterRef("stage_index"))
    return (StageResult.objects.filter(run__experiment=experiment, run__status__in=Run.FINISHED, error="")
            .exclude(Exists(later))
            .order_by("run__position", "run__created_at", "run_id", "item_id", "repeat"))


def rating_progress(*, experiment: Experiment, scorer_name: str) -> tuple[int, int]:
    """(rated, total) final outputs of finished runs."""
    outputs = final_outputs(experiment=experiment)
    return outputs.filter(_rated(scorer_name)).count(), outputs.count()


def queue_next(*, experiment: Experiment, scorer_name: str, skip: int = 0) -> QueueEntry | None:
    """The unrated output after `skip` skipped ones, or None when there is none that far."""
    unrated = final_outputs(experiment=experiment).exclude(_rated(scorer_name)).select_related("run")
    found = list(unrated[max(skip, 0):max(skip, 0) + 1])
    return _entry(experiment, found[0], max(skip, 0)) if found else None


def queue_entry(*, experiment: Experiment, run_id: Id, item_id: str, repeat: int, position: int) -> QueueEntry | None:
    """One given final output (to show again with a refused rating's errors), or None if it is not one."""
    result = (final_outputs(experiment=experiment).select_related("run")
              .filter(run_id=run_id, item_id=item_id, repeat=repeat).first())
    return _entry(experiment, result, position) if result is not None else None


def _entry(experiment: Experiment, result: StageResult, position: int) -> QueueEntry:
    item = next((item for item in experiment.sample_data or []
                 if isinstance(item, dict) and str(item.get("id")) == result.item_id), {})
    return QueueEntry(result=result, item=item, position=position)

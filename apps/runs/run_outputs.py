"""A run's outputs item by item (every stage call, computed scores, human ratings), read one page of items at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from apps.runs.models import Run, Score, ScoreSummary, StageResult


@dataclass
class RepeatOutputs:
    repeat: int
    stages: list[StageResult] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)  # computed by scorers
    ratings: list[Score] = field(default_factory=list)  # entered by people, newest first

    @property
    def final(self) -> StageResult | None:
        """The last stage's result, when no stage of this repeat failed (the output that is scored and rated)."""
        if not self.stages or any(stage.error for stage in self.stages):
            return None
        return self.stages[-1]


@dataclass
class ItemOutputs:
    item_id: str
    item: dict  # the experiment's sample item ({} for inline input the experiment does not hold)
    repeats: list[RepeatOutputs] = field(default_factory=list)


def run_item_ids(*, run: Run) -> QuerySet:
    """The ids of the items the run has results for, in the order the REST detail lists them."""
    return (StageResult.objects.filter(run=run).order_by("item_id").values_list("item_id", flat=True).distinct())


def run_summaries(*, run: Run) -> list[ScoreSummary]:
    return list(ScoreSummary.objects.filter(run=run).order_by("scorer_name"))


def run_item_outputs(*, run: Run, item_ids: Sequence[str]) -> list[ItemOutputs]:
    """The outputs of `item_ids` (one page): two queries however many stages, repeats and scores they have."""
    item_ids = list(item_ids)
    samples = {str(item.get("id")): item for item in run.experiment.sample_data or [] if isinstance(item, dict)}
    items = {item_id: ItemOutputs(item_id=item_id, item=samples.get(item_id, {})) for item_id in item_ids}
    repeats: dict[tuple[str, int], RepeatOutputs] = {}

    def repeat_of(item_id: str, repeat: int) -> RepeatOutputs:
        if (item_id, repeat) not in repeats:
            repeats[(item_id, repeat)] = RepeatOutputs(repeat=repeat)
            items[item_id].repeats.append(repeats[(item_id, repeat)])
        return repeats[(item_id, repeat)]

    results = StageResult.objects.filter(run=run, item_id__in=item_ids).order_by("item_id", "repeat", "stage_index")
    for result in results:
        repeat_of(result.item_id, result.repeat).stages.append(result)
    scores = Score.objects.filter(run=run, item_id__in=item_ids).order_by("scorer_name", "-created_at")
    for score in scores:
        # A rating for an item without a repeat covers every repeat of it.
        targets = ([repeat_of(score.item_id, score.repeat)] if score.repeat is not None
                   else [r for r in items[score.item_id].repeats])
        for target in targets:
            (target.ratings if score.rated_by_id else target.scores).append(score)
    return [items[item_id] for item_id in item_ids]


def output_ratings(*, run: Run, item_id: str, repeat: int | None, limit: int = 5) -> list[Score]:
    """The newest ratings people gave one output (those for the item as a whole included)."""
    scores = Score.objects.filter(run=run, item_id=item_id, rated_by__isnull=False)
    if repeat is not None:
        scores = scores.filter(Q(repeat=repeat) | Q(repeat__isnull=True))
    return list(scores.order_by("-created_at")[:limit])

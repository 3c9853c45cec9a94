"""Human ratings: thumbs or stars, per run or per item, counted like any other score."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from apps.activity.kinds import Kind
from apps.activity.services import event_emit
from apps.core.errors import InvalidInput
from apps.core.types import Id
from apps.engine.config import ScorerSpec
from apps.engine.scorers.base import OptionsInvalid
from apps.runs.models import Run, Score
from apps.runs.services.scoring import summaries_refresh

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.experiments.models import Experiment

IMPLICIT_HUMAN = "human"
# Ratings given to an experiment without a human scorer count under this weight-0 one.
IMPLICIT_SPEC = ScorerSpec(type="human", name=IMPLICIT_HUMAN, weight=0.0, options={"scale": "both"})


def specs_with_ratings(*, experiment: Experiment, run_id: Id) -> list[ScorerSpec]:
    """The experiment's scorers, plus an implicit weight-0 `human` scorer when ratings exist without one."""
    specs = list(experiment.spec.scoring)
    if not any(s.name == IMPLICIT_HUMAN for s in specs) and Score.objects.filter(
        run_id=run_id, scorer_name=IMPLICIT_HUMAN, rated_by__isnull=False
    ).exists():
        specs.append(IMPLICIT_SPEC)
    return specs


def run_rate(*, user: User, run: Run, rating: dict, scorer: str | None = None, item_id: str | None = None,
             repeat: int | None = None, comment: str = "") -> Score:
    """Store one rating and refresh the run's summaries and weighted score."""
    experiment = run.experiment
    human = experiment.spec.scoring.human()
    human_names = [s.name for s in human]
    name = scorer or (human_names[0] if human_names else IMPLICIT_HUMAN)
    if scorer and scorer not in human_names:
        raise InvalidInput(errors={"scorer": [f"'{scorer}' is not a human scorer of this experiment "
                                        f"(human scorers: {', '.join(human_names) or 'none'})."]})
    spec = next((s for s in human if s.name == name), IMPLICIT_SPEC)
    try:
        value = spec.cls(dict(spec.options)).normalize(rating)
    except OptionsInvalid as exc:
        raise InvalidInput(errors={exc.field: [exc.message]}) from exc
    if item_id is not None and not run.stage_results.filter(item_id=item_id).exists():
        raise InvalidInput(errors={"item_id": [f"This run has no output for item '{item_id}'."]})
    repeats = run.sweep.repeats if run.sweep_id else experiment.repeats
    if repeat is not None and not 0 <= repeat < repeats:
        raise InvalidInput(errors={"repeat": [f"This run has {repeats} repeat(s), numbered 0 to {repeats - 1}."]})
    with transaction.atomic():
        score = Score.objects.create(
            run=run, scorer_name=name, item_id=item_id or "", repeat=repeat, value=value, rated_by=user,
            metadata={"rating": rating, "comment": comment, "by": user.username},
        )
        weighted = summaries_refresh(run_id=run.pk, specs=specs_with_ratings(experiment=experiment, run_id=run.pk))
        event_emit(kind=Kind.RUN_RATED, experiment=experiment, sweep=run.sweep_id, run_id=run.pk,
                   payload={"run_id": str(run.pk), "scorer": name, "value": value, "weighted_score": weighted,
                            "item_id": item_id or "", "by": user.username})
    return score

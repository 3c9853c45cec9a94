"""An agent (or anyone steering a sweep) asks for a person: the `human_needed` event, for the timeline and webhooks."""

from __future__ import annotations

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.activity.services import event_emit
from apps.core.errors import InvalidInput
from apps.experiments.models import Experiment
from apps.runs.models import Run

MAX_REASON_CHARS = 2000


def human_review_request(*, experiment: Experiment, reason: str, run: Run | None = None) -> Event:
    """Emit `human_needed` for the experiment (and optionally one of its runs), saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(errors={"reason": ["Say what the person should look at."]})
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(errors={"reason": [f"At most {MAX_REASON_CHARS} characters."]})
    if run is not None and run.experiment_id != experiment.pk:
        raise InvalidInput(errors={"run_id": ["That run belongs to another experiment."]})
    payload = {"reason": reason, "experiment_id": str(experiment.pk), "experiment": experiment.name,
               **({"run_id": str(run.pk)} if run is not None else {})}
    return event_emit(kind=Kind.HUMAN_NEEDED, experiment=experiment, sweep=run.sweep_id if run else None,
                      run_id=run.pk if run else None, payload=payload)

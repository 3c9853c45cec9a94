"""The one JSON envelope every webhook delivery sends: `{"type", "timestamp", "data"}` (docs/webhooks.md).

`data` always carries the ids (`project_id`, `experiment_id`, `experiment_name`, `sweep_id`, `run_id`;
null where the event has none), then the event's own fields, then what the spec adds per type:
the sweep configuration for `experiment.started` and the best run for `experiment.completed`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from apps.activity.kinds import Kind
from apps.activity.models import Event
from apps.experiments.models import Experiment
from apps.runs.models import Run, Sweep

TEST_TYPE = "webhook.test"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _plain(value: Any) -> Any:
    """JSON-safe (Decimals, UUIDs, datetimes as strings), so the stored envelope is exactly what is sent."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def envelope(*, type: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": type, "timestamp": timestamp.isoformat().replace("+00:00", "Z"), "data": _plain(data)}


def _sweep_config(sweep_id: Any) -> dict[str, Any] | None:
    sweep = Sweep.objects.filter(pk=sweep_id).first()
    if sweep is None:
        return None
    return {"type": sweep.kind, "parameter_space": sweep.parameter_space, "repeats": sweep.repeats,
            "seed": sweep.seed, "budget_tokens": sweep.budget_tokens, "budget_usd": sweep.budget_usd,
            "runs_total": sweep.runs_total}


def _best_run(sweep_id: Any) -> dict[str, Any] | None:
    run = Run.objects.filter(sweep_id=sweep_id).ranked().order_by("-weighted_score", "created_at").first()
    if run is None:
        return None
    return {"run_id": run.pk, "weighted_score": run.weighted_score, "config": run.point}


def _extras(event: Event) -> dict[str, Any]:
    if event.kind == Kind.SWEEP_STARTED and event.sweep_id:
        return {"sweep_config": _sweep_config(event.sweep_id)}
    if event.kind == Kind.SWEEP_COMPLETED and event.sweep_id:
        return {"best": _best_run(event.sweep_id)}
    return {}


def event_envelopes(events: Iterable[Event]) -> dict[int, dict[str, Any]]:
    """{event id: envelope} for saved events; one query for the experiment names, one or two per sweep event."""
    events = list(events)
    names = dict(Experiment.objects.filter(pk__in={e.experiment_id for e in events if e.experiment_id})
                 .values_list("pk", "name"))
    built = {}
    for event in events:
        data = {
            "project_id": _text(event.project_id), "experiment_id": _text(event.experiment_id),
            "experiment_name": names.get(event.experiment_id), "sweep_id": _text(event.sweep_id),
            "run_id": _text(event.run_id), **(event.payload or {}), **_extras(event),
        }
        built[event.pk] = envelope(type=event.kind, timestamp=event.created_at or timezone.now(), data=data)
    return built


def test_envelope(*, webhook_id: Any) -> dict[str, Any]:
    """The body of "send test event": proves the URL, the signature and the custom headers work."""
    return envelope(type=TEST_TYPE, timestamp=timezone.now(),
                    data={"webhook_id": webhook_id, "message": "A test event from PromptLooper."})

"""The timeline, and asking a person to look (`human_needed`)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from apps.activity.selectors import timeline_for_experiment
from apps.experiments.selectors import experiment_get
from apps.mcp.registry import Args, Call, ToolSpec
from apps.runs import selectors
from apps.runs.services.review import MAX_REASON_CHARS, human_review_request


class EventOut(BaseModel):
    id: str
    kind: str
    created_at: str
    sweep_id: str | None
    run_id: str | None
    payload: dict[str, Any]


class Timeline(BaseModel):
    count: int
    events: list[EventOut] = Field(description="Newest first.")


class TimelineArgs(Args):
    experiment_id: uuid.UUID
    kinds: list[str] | None = Field(None, description="Only these kinds, e.g. new_best_found, run.failed.")
    limit: int = Field(50, ge=1, le=500)


class ReviewArgs(Args):
    experiment_id: uuid.UUID
    reason: str = Field(max_length=MAX_REASON_CHARS, description="What the person should look at, and why.")
    run_id: uuid.UUID | None = None


def event_out(event) -> EventOut:
    return EventOut(id=str(event.pk), kind=event.kind, created_at=event.created_at.isoformat(),
                    sweep_id=str(event.sweep_id) if event.sweep_id else None,
                    run_id=str(event.run_id) if event.run_id else None, payload=event.payload)


def get_timeline(call: Call, args: TimelineArgs) -> Timeline:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    qs = timeline_for_experiment(user=call.user, experiment_id=experiment.pk, kinds=args.kinds).order_by(
        "-created_at")
    return Timeline(count=qs.count(), events=[event_out(e) for e in qs[: args.limit]])


def request_human_review(call: Call, args: ReviewArgs) -> EventOut:
    experiment = experiment_get(user=call.user, experiment_id=args.experiment_id)
    run = selectors.run_get(user=call.user, run_id=args.run_id, outputs=False) if args.run_id else None
    return event_out(human_review_request(experiment=experiment, run=run, reason=args.reason))


TOOLS = [
    ToolSpec("get_timeline", "An experiment's activity: sweeps started and finished, runs failed, new bests, "
             "budgets, steering.", TimelineArgs, Timeline, get_timeline, read_only=True, idempotent=True),
    ToolSpec("request_human_review", "Ask a person to look (a human_needed event on the timeline, the dashboard "
             "and subscribed webhooks), with a reason.", ReviewArgs, EventOut, request_human_review),
]

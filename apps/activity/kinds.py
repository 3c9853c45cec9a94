"""Every kind of timeline event, declared once; webhooks offer the ones marked `webhook`."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """An event kind: its stored value, whether webhooks may subscribe to it, and what it means."""

    webhook: bool
    description: str

    def __new__(cls, value: str, webhook: bool, description: str) -> Kind:
        member = str.__new__(cls, value)
        member._value_ = value
        member.webhook = webhook
        member.description = description
        return member

    # Announced to owners' webhooks, in the order the API lists them.
    SWEEP_STARTED = "experiment.started", True, "A sweep begins."
    SWEEP_COMPLETED = "experiment.completed", True, "Every run of a sweep has finished."
    SWEEP_PAUSED = "experiment.paused", True, "A sweep paused, by hand or at its budget."
    SWEEP_FAILED = "experiment.failed", True, "A sweep failed after its driver kept crashing."
    NEW_BEST = "new_best_found", True, (
        "A run beat every earlier run: significantly better than the best, paired by item.")
    BUDGET_EXHAUSTED = "budget.exhausted", True, "A token or cost budget was reached."
    HUMAN_NEEDED = "human_needed", True, "An agent asks for a human's review, with a reason."
    RUN_FAILED = "run.failed", True, "A run ended in an error."
    VERSION_ACTIVATED = "version.activated", True, (
        "A deployment's active prompt version changed: by hand, by promotion, by tracking or an A/B winner.")
    AB_COMPLETED = "ab.completed", True, "An A/B test completed, with its decision: the winner activated, or why not."
    # Timeline only.
    SWEEP_RESUMED = "experiment.resumed", False, "A paused sweep resumed."
    SWEEP_STOPPED = "experiment.stopped", False, "A sweep was stopped and its pending runs cancelled."
    SWEEP_REDIRECTED = "experiment.redirected", False, "A sweep's remaining plan was replaced."
    SWEEP_INTERRUPTED = "experiment.interrupted", False, "A sweep's driver died and the sweep was re-queued."
    DRIVER_CRASHED = "driver.crashed", False, "A sweep's driver raised an exception."
    EXPERIMENT_FORKED = "experiment.forked", False, "A new experiment was copied from a run."
    RUN_STARTED = "run.started", False, "A run was claimed by a driver."
    RUN_COMPLETED = "run.completed", False, "A run finished."
    RUN_CACHED = "run.cached", False, "A run finished from cached calls only."
    BEST_TIED = "best.tied", False, "A run scored above the best, but not significantly: tied with the best."
    RUN_APPROVED = "run.approved", False, "A run was approved."
    RUN_REJECTED = "run.rejected", False, "A run was rejected."
    RUN_APPROVAL_CLEARED = "run.approval_cleared", False, "A run's approval or rejection was withdrawn."
    RUN_RATED = "run.rated", False, "A human rated a run's output."
    CACHE_INVALIDATED = "cache.invalidated", False, "Cached responses were deleted."
    GUIDED_BATCH = "sweep.batch_planned", False, "A guided sweep planned its next batch."
    AGENT_STEP = "agent.step", False, "An agent sweep's agent took a step (tool, arguments, result, duration, tokens)."
    AGENT_FINISHED = "agent.finished", False, "An agent sweep's agent finished, with its summary."
    PROMPT_PROPOSALS = "prompt_search.proposals", False, "A prompt search's proposer wrote new prompt variants."
    PROMPT_ROUND = "prompt_search.round", False, "A prompt search round was scored: its best, and whether it helped."
    RESCORE_STARTED = "scoring.started", False, "Re-scoring of stored outputs began."
    RESCORE_PROGRESS = "scoring.progress", False, "Re-scoring progressed."
    RESCORE_COMPLETED = "scoring.completed", False, "Re-scoring finished."
    VERSION_CREATED = "version.created", False, "A prompt version was created (by hand, promotion or tracking)."
    AB_STARTED = "ab.started", False, "An A/B test started routing traffic."
    AB_PAUSED = "ab.paused", False, "An A/B test paused; traffic goes to the active version."
    WEBHOOK_DISABLED = "webhook.disabled", False, "A webhook was switched off: its receiver sent 410 or kept failing."


def webhook_kinds() -> list[str]:
    """The event kinds a webhook may subscribe to, as plain strings."""
    return [kind.value for kind in Kind if kind.webhook]

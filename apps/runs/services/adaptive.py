"""The step an adaptive sweep's driver takes between batches, by sweep kind.

Every adaptive planner continues through `guided_next_batch` (ask/tell over the stored runs) unless its
kind names its own step here: an async callable `step(driver) -> int` (the number of runs it planned;
0 ends the sweep), given the running `SweepDriver` so it can call the user's endpoints (a proposer
model, an agent's LLM) with the sweep's budget, leases and steering. One line per kind; the module is
imported on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

AdaptiveStep = Callable[[Any], Awaitable[int]]

STEPS: dict[str, str] = {
    # "prompt_search": "apps.runs.services.prompt_search.prompt_search_step",
}


def adaptive_step_for(kind: str) -> AdaptiveStep | None:
    """The kind's own step, or None for the default (guided_next_batch)."""
    target = STEPS.get(kind)
    if target is None:
        return None
    module, _, name = target.rpartition(".")
    return getattr(import_module(module), name)

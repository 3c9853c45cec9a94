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
    "agent": "apps.runs.services.agent_sweep.agent_sweep_step",
    "halving": "apps.runs.services.halving.halving_step",
    "prompt_search": "apps.runs.services.prompt_search.prompt_search_step",
}


# A kind whose options name things only the database can check (an endpoint the user must own):
# `check(user=, options=)` raising InvalidInput, called by sweep_start. One line per kind.
OPTION_CHECKS: dict[str, str] = {
    "agent": "apps.runs.services.agent_sweep.agent_options_check",
}


def _imported(target: str):
    module, _, name = target.rpartition(".")
    return getattr(import_module(module), name)


def adaptive_options_check(kind: str, *, user: Any, options: dict) -> None:
    """Run the kind's database checks of its options, if it has any."""
    if kind in OPTION_CHECKS:
        _imported(OPTION_CHECKS[kind])(user=user, options=options)


def adaptive_step_for(kind: str) -> AdaptiveStep | None:
    """The kind's own step, or None for the default (guided_next_batch)."""
    target = STEPS.get(kind)
    return None if target is None else _imported(target)

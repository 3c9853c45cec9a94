"""Before a sweep starts: the space it will sweep, and a dry run (its plan and estimate) without running it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from apps.engine.planners import planner_for
from apps.experiments.endpoint_usage import endpoints_require
from apps.experiments.models import Experiment
from apps.runs.services.adaptive import adaptive_options_check
from apps.runs.services.budget import BudgetFit, budget_fit, sweep_estimate
from apps.runs.services.estimate import Estimate
from apps.runs.services.estimate_adaptive import first_batch
from apps.runs.services.planning import sweep_plan
from apps.runs.services.runs import parameter_space_validate

if TYPE_CHECKING:
    from apps.accounts.models import User

POINTS_SHOWN = 100


@dataclass
class DryRun:
    runs: int
    calls: int
    note: str
    estimate: Estimate
    budget: BudgetFit
    points: list[dict] = field(default_factory=list)  # the first POINTS_SHOWN planned points

    def as_dict(self) -> dict:
        return {"dry_run": True, "runs": self.runs, "calls": self.calls, "note": self.note, "points": self.points,
                "estimate": self.estimate.as_dict(), "budget": self.budget.as_dict()}


def sweep_space_resolve(*, user: User, experiment: Experiment, parameter_space: list | None) -> list:
    """The space a sweep request will sweep (the experiment's, or `parameter_space` validated); refuses
    a configuration naming a deleted endpoint before anything is planned."""
    endpoints_require(
        pipeline_stages=experiment.pipeline_stages, scoring_config=experiment.scoring_config,
        parameter_space=experiment.parameter_space if parameter_space is None else parameter_space)
    if parameter_space is None:
        return experiment.parameter_space
    return parameter_space_validate(user=user, experiment=experiment, parameter_space=parameter_space)


def sweep_dry_run(*, experiment: Experiment, kind: str, parameter_space: list, repeats: int | None = None,
                  n: int | None = None, seed: int | None = None, sample_ids: list[str] | None = None,
                  budget_tokens: int | None = None, budget_usd: Decimal | None = None, batch: int | None = None,
                  options: dict | None = None) -> DryRun:
    """Plan a sweep and estimate its calls, cached calls, tokens and cost as ranges, against its budgets (the
    experiment's unless given); nothing is saved. An adaptive sweep is planned as its start plans it (its first
    batch, or nothing yet) and estimated from its planner's call bounds."""
    planner = planner_for(kind)
    adaptive = planner is not None and planner.adaptive
    plan = sweep_plan(experiment=experiment, kind=kind, parameter_space=parameter_space,
                      repeats=repeats or experiment.repeats, n=first_batch(kind, n=n, batch=batch) if adaptive else n,
                      seed=seed, sample_ids=sample_ids, options=options)
    if adaptive:
        adaptive_options_check(kind, user=experiment.project.owner, options=options or {})
    estimate = sweep_estimate(plan=plan, owner_id=experiment.project.owner_id, configurations=n)
    budget = budget_fit(estimate=estimate,
                        budget_tokens=experiment.budget_tokens if budget_tokens is None else budget_tokens,
                        budget_usd=experiment.budget_usd if budget_usd is None else budget_usd)
    points = [run.point for run in plan.runs[:POINTS_SHOWN]] or ((plan.state or {}).get("configs") or [])[:POINTS_SHOWN]
    return DryRun(runs=estimate.runs, calls=estimate.calls, note=plan.note, points=points, estimate=estimate,
                  budget=budget)

"""A plan's estimate against its budgets: whether it fits, and by how much it does not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings

from apps.core.errors import InvalidInput
from apps.core.models import SystemSettings
from apps.core.types import Id
from apps.engine.planners import planner_for
from apps.runs.services.estimate import Estimate, plan_estimate
from apps.runs.services.estimate_adaptive import adaptive_estimate
from apps.runs.services.planning import Plan

OVER_BUDGET = ("pause", "refuse")  # start and pause at the budget (default), or refuse to start


def server_token_limit() -> int:
    """The instance's token limit per sweep (0: none), as the driver applies it."""
    return SystemSettings.load().max_tokens_per_sweep or settings.MAX_TOKENS_PER_SWEEP


@dataclass
class BudgetFit:
    tokens: int | None  # the token limit that applies (the lower of the sweep's and the server's)
    usd: float | None
    fits: bool  # the expected spend is within every budget
    short_tokens: int  # expected tokens beyond the token budget (0 when it fits)
    short_usd: float
    message: str  # what is short, by how much; or that the upper end may reach a budget; "" otherwise
    field: str = ""  # the request field the shortfall is about

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("field")
        return data


def budget_fit(*, estimate: Estimate, budget_tokens: int | None, budget_usd: Decimal | float | None) -> BudgetFit:
    """The estimate's expected and upper spend against the sweep's budgets and the server's token limit."""
    server = server_token_limit()
    limits = [v for v in (budget_tokens, server) if v]
    tokens = min(limits) if limits else None
    usd = float(budget_usd) if budget_usd is not None else None
    need, most = estimate.tokens["expected"], estimate.tokens["high"]
    cost, cost_most = estimate.cost_usd_range["expected"], estimate.cost_usd_range["high"]
    short_tokens = max(0, need - tokens) if tokens is not None else 0
    short_usd = round(max(0.0, cost - usd), 6) if usd is not None else 0.0
    messages, field = [], ""
    # An adaptive sweep's expected spend is its planner using every configuration and round it may.
    subject = "This sweep, using all it may," if estimate.adaptive else "This sweep"
    whose = "the server's limit per sweep" if tokens is not None and tokens == server and tokens != budget_tokens \
        else "budget"
    if short_tokens:
        messages.append(f"{subject} needs ≈ {need:,} tokens (up to {most:,}); {whose} {tokens:,}: "
                        f"{short_tokens:,} short.")
        field = "budget_tokens"
    if short_usd:
        messages.append(f"{subject} costs ≈ ${cost:,.4f} (up to ${cost_most:,.4f}); budget ${usd:,.4f}: "
                        f"${short_usd:,.4f} short.")
        field = field or "budget_usd"
    if not messages and ((tokens is not None and most > tokens) or (usd is not None and cost_most > usd)):
        messages.append("The expected spend fits, but the upper end of the estimate reaches a budget: the sweep "
                        "may pause there.")
    return BudgetFit(tokens=tokens, usd=usd, fits=not (short_tokens or short_usd), short_tokens=short_tokens,
                     short_usd=short_usd, message=" ".join(messages), field=field)


def budget_require(*, estimate: Estimate, budget_tokens: int | None, budget_usd: Decimal | float | None) -> None:
    """Refuse (InvalidInput on the budget field) a plan whose expected spend exceeds a budget, saying by how much."""
    fit = budget_fit(estimate=estimate, budget_tokens=budget_tokens, budget_usd=budget_usd)
    if not fit.fits:
        raise InvalidInput(errors={fit.field: [fit.message]})


def budget_checked(*, over_budget: str) -> bool:
    """Whether a start must estimate its plan first: it refuses over its budget, or the server limits tokens."""
    return over_budget == "refuse" or bool(server_token_limit())


def sweep_estimate(*, plan: Plan, owner_id: Id, configurations: int | None = None) -> Estimate:
    """The estimate of a planned sweep: every call of a grid or random plan; an adaptive one's bounds
    (`configurations`: the most it may run, of which the plan is the first batch or none)."""
    planner = planner_for(plan.kind)
    if planner is not None and planner.adaptive:
        return adaptive_estimate(plan=plan, owner_id=owner_id, configurations=configurations)
    return plan_estimate(plan=plan, owner_id=owner_id)


def plan_budget_require(*, plan: Plan, owner_id: Id, over_budget: str, budget_tokens: int | None,
                        budget_usd: Decimal | None, configurations: int | None = None) -> None:
    """At a start: refuse a plan over the server's token limit, and over the sweep's budgets with "refuse".

    `configurations`: an adaptive sweep's whole budget of configurations, of which the plan is the first batch.
    """
    adaptive = getattr(planner_for(plan.kind), "adaptive", False)
    if not budget_checked(over_budget=over_budget) or not (plan.runs or adaptive):
        return
    estimate = sweep_estimate(plan=plan, owner_id=owner_id, configurations=configurations)
    refuse = over_budget == "refuse"
    budget_require(estimate=estimate, budget_tokens=budget_tokens if refuse else None,
                   budget_usd=budget_usd if refuse else None)

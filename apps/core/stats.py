"""System-wide counts for the admin stats API: a handful of aggregate queries, no per-row work."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import ResponseCache, Run, Sweep


def _counts_by_status(model, choices) -> dict[str, int]:
    counts = {value: 0 for value in choices.values}
    for row in model.objects.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def system_stats() -> dict[str, Any]:
    """Totals across every user: rows, run and sweep states, calls, cache use, tokens and cost."""
    totals = Run.objects.aggregate(
        calls=Coalesce(Sum("calls"), 0),
        cache_hits=Coalesce(Sum("cache_hits"), 0),
        tokens_in=Coalesce(Sum("tokens_in"), 0),
        tokens_out=Coalesce(Sum("tokens_out"), 0),
        cost=Sum("cost_estimate"),
    )
    runs_by_status = _counts_by_status(Run, Run.Status)
    calls = totals["calls"]
    return {
        "users": get_user_model().objects.count(),
        "projects": Project.objects.count(),
        "experiments": Experiment.objects.count(),
        "runs": sum(runs_by_status.values()),
        "runs_by_status": runs_by_status,
        "sweeps_by_status": _counts_by_status(Sweep, Sweep.Status),
        "cache_entries": ResponseCache.objects.count(),
        "total_calls": calls,
        "cache_hits": totals["cache_hits"],
        "cache_hit_rate": round(totals["cache_hits"] / calls, 4) if calls else 0.0,
        "tokens_in": totals["tokens_in"],
        "tokens_out": totals["tokens_out"],
        "cost_usd": totals["cost"] or Decimal("0"),
    }

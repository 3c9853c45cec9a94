"""System-wide counts for the admin stats API: a handful of aggregate queries, no per-row work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.runs.models import ResponseCache, Run, Sweep


def system_stats() -> dict[str, Any]:
    """Totals across every user: rows, run and sweep states, calls, cache use, tokens and cost."""
    totals = Run.objects.totals()
    runs_by_status = Run.objects.counts_by_status()
    calls = totals["calls"]
    return {
        "users": get_user_model().objects.count(),
        "projects": Project.objects.count(),
        "experiments": Experiment.objects.count(),
        "runs": totals["runs"],
        "runs_by_status": runs_by_status,
        "sweeps_by_status": Sweep.objects.counts_by_status(),
        "cache_entries": ResponseCache.objects.count(),
        "total_calls": calls,
        "cache_hits": totals["cache_hits"],
        "cache_hit_rate": round(totals["cache_hits"] / calls, 4) if calls else 0.0,
        "tokens_in": totals["tokens_in"],
        "tokens_out": totals["tokens_out"],
        "cost_usd": totals["cost"],
    }

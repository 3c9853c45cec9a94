"""Leaderboard and score-chart contexts, shared by the live view, its partials and the live pushes (H4)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.experiments.models import Experiment


def leaderboard_context(*, request: HttpRequest | None, experiment: Experiment) -> dict[str, Any]:
    """The `experiment-leaderboard` partial's context (request None: a live push, first page, default sort)."""
    return {}


def chart_context(*, experiment: Experiment) -> dict[str, Any]:
    """The `experiment-chart` partial's context."""
    return {}

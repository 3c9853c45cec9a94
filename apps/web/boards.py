"""Leaderboard and score-chart contexts, shared by the live view, its partials and the live pushes (H4).

The read models live in apps.runs.board, so the live publisher (which may not import apps.web) builds the
same contexts from the same functions; this module only parses the page's query string.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.core.types import Viewer
from apps.experiments.models import Experiment
from apps.runs.board import WEIGHTED, board_page, chart_data


def leaderboard_context(*, request: HttpRequest | None, experiment: Experiment,
                        viewer: Viewer | None = None) -> dict[str, Any]:
    """The `experiment-leaderboard` partial's context (request None: a live push, first page, default sort)."""
    query = request.GET if request is not None else {}
    try:
        page = int(query.get("page", 1))
    except (TypeError, ValueError):
        page = 1
    reader = request.user if request is not None else viewer
    board = board_page(experiment=experiment, viewer=reader, sort=query.get("sort") or WEIGHTED,
                       descending=query.get("dir") != "asc", page=page)
    return {"experiment": experiment, "board": board}


def chart_context(*, experiment: Experiment) -> dict[str, Any]:
    """The `experiment-chart` partial's context."""
    return {"experiment": experiment, "chart": chart_data(experiment=experiment),
            "chart_axes": [axis.path for axis in experiment.spec.space]}

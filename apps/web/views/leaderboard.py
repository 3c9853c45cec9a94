"""The leaderboard and score chart of an experiment; run approval and fork (H4)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def experiment_leaderboard(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_chart(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def run_approval(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def run_fork(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

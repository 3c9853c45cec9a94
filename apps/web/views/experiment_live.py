"""The live experiment view: progress, timeline, dry run and start, steering (H3)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def experiment_live(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_estimate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def sweep_start(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_steer(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_redirect(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def experiment_timeline(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

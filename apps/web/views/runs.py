"""Run detail, human rating and the rating queue (H5)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def run_detail(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def run_rate(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def rating_queue(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

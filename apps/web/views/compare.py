"""Compare two runs (H6)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def run_compare(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

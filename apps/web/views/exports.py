"""Export downloads of an experiment's best configuration (H6)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def experiment_export(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

"""Sample data: the editable table and file import with preview (H2)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def samples_edit(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404

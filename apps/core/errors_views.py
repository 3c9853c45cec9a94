"""Error pages: a URL under /api/ that matches no route gets the API's JSON error body."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Path converters (<uuid:…>) reject a malformed id before DRF sees it; API clients still expect JSON.
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.health import health_report


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from apps.projects.selectors import project_list

    projects = project_list(user=request.user)[:50]
    return render(request, "core/home.html", {"projects": projects})

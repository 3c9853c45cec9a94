from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.projects.selectors import project_list


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    projects = project_list(user=request.user)[:50]
    return render(request, "core/home.html", {"projects": projects})

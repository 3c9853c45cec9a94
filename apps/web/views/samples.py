"""Sample data: the builder table's own actions over htmx (add/remove rows and columns, import with preview)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from apps.web.samples import samples_action, samples_from_post, samples_table


@login_required
@require_POST
def samples_edit(request: HttpRequest) -> HttpResponse:
    """The sample table after the posted action; nothing is saved (the builder saves the experiment)."""
    table = samples_action(request) or samples_table(samples_from_post(request.POST))
    return render(request, "web/experiments/samples.html#experiment-samples", {"samples": table},
                  status=400 if table.has_errors else 200)

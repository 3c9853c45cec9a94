"""Export downloads of an experiment's best (or chosen) run, and keeping it as a saved best configuration."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import InvalidInput, NotFound, ServiceError
from apps.experiments.selectors import experiment_get
from apps.exports.saved_configs import saved_config_create
from apps.exports.selectors import export_run_choose
from apps.exports.services import CONTENT_TYPES, export_render
from apps.web.access import guest_readable

PARTIAL = "web/experiments/exports.html#experiment-exports"


class ExportQueryForm(forms.Form):
    # The REST export's query: another run than the best, and (report only) a baseline to diff against.
    run = forms.UUIDField(required=False)
    baseline = forms.UUIDField(required=False)


def _query(request: HttpRequest) -> dict:
    form = ExportQueryForm(request.GET or request.POST)
    if not form.is_valid():
        raise InvalidInput(errors=form.errors)
    return form.cleaned_data


def _refused(request: HttpRequest, experiment, exc: ServiceError) -> HttpResponse:
    """Back to the live view with the reason (htmx: the reason with the service's status)."""
    message = exc.detail or str(exc)
    if request.htmx:
        return HttpResponse(message, status=exc.status, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return redirect("web:experiment", experiment_id=experiment.pk)


@guest_readable
@require_GET
def experiment_export(request: HttpRequest, experiment_id, fmt: str) -> HttpResponse:
    """The REST export's file (json, env, yaml or report), as an attachment; recorded in the export history."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    try:
        query = _query(request)
        result = export_render(user=request.user, experiment=experiment, fmt=fmt,
                               run_id=query["run"], baseline_id=query["baseline"])
    except (InvalidInput, NotFound) as exc:  # no finished run yet, or a run that is not this experiment's
        return _refused(request, experiment, exc)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@login_required
@require_POST
def experiment_save_best(request: HttpRequest, experiment_id) -> HttpResponse:
    """Keep the best (or posted) run's config in the project's saved configurations (owner only)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    try:
        run = export_run_choose(experiment=experiment, run_id=_query(request)["run"])
        saved = saved_config_create(project=experiment.project, name=f"{experiment.name[:180]} · best",
                                    config=run.config, run_id=run.pk)
    except ServiceError as exc:
        return _refused(request, experiment, exc)
    if not request.htmx:
        messages.success(request, f"Saved “{saved.name}” in the project's saved configurations.")
        return redirect("web:experiment", experiment_id=experiment.pk)
    return render(request, PARTIAL, {"experiment": experiment, "can_write": True, "saved": saved})

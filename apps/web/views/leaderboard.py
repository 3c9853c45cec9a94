"""The leaderboard and score chart of an experiment; run approval (and its clearing) and fork (H4)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.experiments.selectors import experiment_get
from apps.runs import selectors
from apps.runs.board import board_row
from apps.runs.models import Run
from apps.runs.services.runs import experiment_fork, run_set_approval
from apps.web.access import guest_readable
from apps.web.boards import chart_context, leaderboard_context
from apps.web.forms_leaderboard import ForkForm
from apps.web.rendering import render_page
from apps.web.submit import form_saved, form_status

TEMPLATE = "web/experiments/leaderboard.html"
APPROVAL_WORDS = {Run.Approval.APPROVED: "approved", Run.Approval.REJECTED: "rejected",
                  Run.Approval.NONE: "back to no decision"}


@guest_readable
@require_GET
def experiment_leaderboard(request: HttpRequest, experiment_id) -> HttpResponse:
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    context = {**leaderboard_context(request=request, experiment=experiment), "can_write": _owns(request, experiment)}
    return render_page(request, TEMPLATE, context, partials=("experiment-leaderboard",))


@guest_readable
@require_GET
def experiment_chart(request: HttpRequest, experiment_id) -> HttpResponse:
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    context = {**chart_context(experiment=experiment), "show_chart": True, "can_write": _owns(request, experiment)}
    return render_page(request, TEMPLATE, context, partials=("experiment-chart",))


@login_required
@require_POST
def run_approval(request: HttpRequest, run_id, approval: str) -> HttpResponse:
    """Approve, reject or clear the decision (the REST RunApprovalApi's service; REST has no clear).

    htmx gets the row back (a rejected run: none); without JavaScript a clear returns to the run's page,
    where a rejected run (off the leaderboard) shows its decision.
    """
    run = selectors.run_get(user=request.user, run_id=run_id)
    run = run_set_approval(run=run, approval=approval)
    if not request.htmx:
        messages.success(request, f"Run {str(run.pk)[:8]} {APPROVAL_WORDS[approval]}.")
        if approval == Run.Approval.NONE:
            return redirect("web:run", run_id=run.pk)
        return redirect("web:experiment", experiment_id=run.experiment_id)
    run.refresh_from_db()
    row = board_row(experiment=run.experiment, viewer=request.user, run=run)
    if row is None:
        return HttpResponse("")  # rejected: the row leaves the leaderboard
    return render(request, f"{TEMPLATE}#leaderboard-row", {"row": row, "can_write": True})


@login_required
@require_http_methods(["GET", "POST"])
def run_fork(request: HttpRequest, run_id) -> HttpResponse:
    """GET: what forking does and the new space (prefilled); POST: experiment_fork, then the new live view."""
    run = selectors.run_get(user=request.user, run_id=run_id)
    initial = {"name": f"{run.experiment.name} (fork)",
               "parameter_space": json.dumps(run.experiment.parameter_space or [], indent=2)}
    form = ForkForm(request.POST if request.method == "POST" else None, initial=initial)
    fork = form_saved(request, form, lambda data: experiment_fork(
        user=request.user, run=run, parameter_space=data["parameter_space"], name=data["name"] or None))
    if fork is not None:
        messages.success(request, f"Forked into “{fork.name}”.")
        return redirect("web:experiment", experiment_id=fork.pk)
    return render_page(request, "web/runs/fork.html", {"run": run, "experiment": run.experiment, "form": form},
                       status=form_status(form))


def _owns(request: HttpRequest, experiment) -> bool:
    return request.user.is_authenticated and request.user.pk == experiment.project.owner_id


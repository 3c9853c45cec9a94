"""Experiment builder: create and edit an experiment's samples, stages, scorers, space and budgets (H1)."""

from __future__ import annotations

import re
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import InvalidInput
from apps.endpoints.selectors import endpoint_get, endpoint_list
from apps.experiments import selectors, services
from apps.experiments.models import Experiment
from apps.projects.models import Project
from apps.projects.selectors import project_get_owned
from apps.web.builder import (
    Draft,
    draft_act,
    draft_data,
    draft_from_experiment,
    draft_from_post,
    draft_json_errors,
    draft_new,
    errors_route,
)
from apps.web.builder_live import count_text, draft_space_count, endpoint_models
from apps.web.forms_experiments import builder_forms
from apps.web.rendering import render_page
from apps.web.samples import samples_action, samples_from_post, samples_table

TEMPLATE = "web/experiments/builder.html"
PARTIALS = ("builder-form", "builder-config", "builder-space-count")
_LIST_ID = re.compile(r"^stage-\d{1,4}-models$")


@login_required
@require_http_methods(["GET", "POST"])
def experiment_create(request: HttpRequest, project_id) -> HttpResponse:
    project = project_get_owned(user=request.user, project_id=project_id)
    return _builder(request, project=project, experiment=None)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request: HttpRequest, experiment_id) -> HttpResponse:
    experiment = selectors.experiment_get(user=request.user, experiment_id=experiment_id)
    return _builder(request, project=experiment.project, experiment=experiment)


def _builder(request: HttpRequest, *, project: Project, experiment: Experiment | None) -> HttpResponse:
    """GET: the stored (or a new) experiment; POST: a row action re-renders, anything else saves."""
    if request.method == "GET":
        draft, table = (draft_from_experiment(experiment) if experiment else draft_new()), None
    else:
        draft, table = draft_from_post(request.POST), samples_action(request)
        draft.samples = samples_from_post(request.POST)
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and table is None and not draft_act(draft, request.POST.get("action", "")):
        try:
            saved = _save(request, project=project, experiment=experiment, data=draft_data(draft))
        except InvalidInput as exc:
            errors = {**exc.errors, **draft_json_errors(draft)}
        else:
            messages.success(request, f"Experiment “{saved.name}” {'saved' if experiment else 'created'}.")
            return redirect("web:experiment", experiment_id=saved.pk)
    context = _context(request, draft, project=project, experiment=experiment, errors=errors, table=table)
    refused = errors or (table is not None and table.has_errors)
    return render_page(request, TEMPLATE, context, partials=PARTIALS, status=400 if refused else 200)


def _save(request: HttpRequest, *, project: Project, experiment: Experiment | None, data: dict) -> Experiment:
    if experiment is None:
        return services.experiment_create(user=request.user, project=project, data=data)
    return services.experiment_update(user=request.user, experiment=experiment, data=data, partial=False)


def _context(request: HttpRequest, draft: Draft, *, project: Project, experiment: Experiment | None,
             errors: dict, table) -> dict:
    routed = errors_route(errors)
    endpoints = [(str(e.pk), e.label) for e in endpoint_list(user=request.user)]
    count, problems = draft_space_count(draft, user=request.user)
    return {
        "project": project, "experiment": experiment, "can_write": True,
        "samples": table or samples_table(draft.samples, errors=routed.samples),
        "count": count, "count_text": count_text(count) if count else "", "count_errors": problems,
        **builder_forms(draft, user=request.user, endpoints=endpoints, errors=routed),
    }


@login_required
@require_POST
def experiment_space_count(request: HttpRequest) -> HttpResponse:
    """The builder's live count: combinations × repeats × items, as a grid sweep would plan them."""
    draft = draft_from_post(request.POST)
    draft.samples = samples_from_post(request.POST)
    count, problems = draft_space_count(draft, user=request.user)
    context = {"count": count, "count_text": count_text(count) if count else "", "count_errors": problems}
    return render(request, f"{TEMPLATE}#builder-space-count", context)


@login_required
@require_GET
def experiment_models(request: HttpRequest) -> HttpResponse:
    """A stage's model <datalist>: the endpoint's model list (cached briefly); on failure empty, with a note."""
    raw = request.GET.get("endpoint") or next((v for k, v in request.GET.items() if k.endswith("-endpoint")), "")
    list_id = request.GET.get("list", "")
    context = {"list_id": list_id if _LIST_ID.match(list_id) else "stage-models", "models": [], "note": ""}
    try:
        endpoint_id = uuid.UUID(raw)
    except ValueError:
        context["note"] = "Choose an endpoint to list its models."
    else:
        endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
        context["models"], context["note"] = endpoint_models(endpoint)
    return render(request, "web/experiments/builder_models.html#experiment-models", context)

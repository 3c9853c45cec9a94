"""The live experiment view: progress, timeline, dry run and start, steering, approving an agent, redirect."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.activity.kinds import Kind
from apps.activity.selectors import timeline_for_experiment
from apps.core.errors import Conflict, ServiceError, form_add_service_errors
from apps.endpoints.selectors import endpoint_list
from apps.experiments.models import Experiment
from apps.experiments.selectors import experiment_get
from apps.runs.selectors import sweep_get
from apps.runs.services import sweeps
from apps.runs.services.agent_sweep import agent_sweep_approve
from apps.runs.services.dry_run import DryRun, sweep_dry_run, sweep_space_resolve
from apps.runs.services.runs import parameter_space_validate
from apps.runs.summaries import sweep_progress
from apps.web.access import guest_readable
from apps.web.boards import leaderboard_context
from apps.web.forms_live import ApproveForm, RedirectForm, SweepForm, TimelineFilterForm
from apps.web.rendering import paginate_feed, render_page
from apps.web.submit import form_saved, form_status

LIVE = "web/experiments/live.html"
REDIRECT = "web/experiments/redirect.html"
PARTIALS = ("experiment-progress", "experiment-timeline", "experiment-estimate", "experiment-start")
TIMELINE_PER_PAGE = 20
SERVICE_FIELDS = {"kind": "type"}  # the planner names the sweep type "kind"
STEERING = {"pause": (sweeps.sweep_pause, "Sweep paused: runs in flight finish, nothing new starts."),
            "resume": (sweeps.sweep_resume, "Sweep resumed."),
            "stop": (sweeps.sweep_stop, "Sweep stopped: its queued runs were cancelled.")}


@guest_readable
@require_GET
def experiment_live(request: HttpRequest, experiment_id) -> HttpResponse:
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    context = _page_context(request, experiment, part=_part(request, PARTIALS))
    return render_page(request, LIVE, context, partials=PARTIALS)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_estimate(request: HttpRequest, experiment_id) -> HttpResponse:
    """The dry run of the start form's options: htmx GETs it on every change; without JavaScript the form POSTs
    here, so its CSRF token never lands in a URL."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    form = _sweep_form(request, experiment, request.POST if request.method == "POST" else request.GET)
    dry_run = None
    if form.is_valid():
        try:
            dry_run = _dry_run(request, experiment, form)
        except ServiceError as exc:
            form.option_errors_named(exc)
            form_add_service_errors(form, exc, fields=SERVICE_FIELDS)
    context = _page_context(request, experiment, part=_part(request, ("experiment-estimate",)), sweep_form=form,
                            dry_run=dry_run, estimate_errors=form.errors)
    return render_page(request, LIVE, context, partials=("experiment-estimate",))


@login_required
@require_POST
def sweep_start(request: HttpRequest, experiment_id) -> HttpResponse:
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    form = _sweep_form(request, experiment, request.POST)

    def start(data: dict[str, Any]):
        space = sweep_space_resolve(user=request.user, experiment=experiment, parameter_space=None)
        try:
            return sweeps.sweep_start(user=request.user, experiment=experiment, parameter_space=space,
                                      budget_tokens=data["budget_tokens"], budget_usd=data["budget_usd"],
                                      batch=data["batch"], options=form.planner_options(),
                                      over_budget=data["over_budget"] or "pause", **form.plan_options())
        except ServiceError as exc:
            raise form.option_errors_named(exc) from None

    started = form_saved(request, form, start, fields=SERVICE_FIELDS)
    if started is not None:
        sweep, plan = started
        messages.success(request, f"Sweep started: {sweep.runs_total:,} runs planned. {plan.note}".strip())
        return redirect("web:experiment", experiment_id=experiment.pk)
    context = _page_context(request, experiment, sweep_form=form)
    return render_page(request, LIVE, context, status=form_status(form))


@login_required
@require_POST
def experiment_steer(request: HttpRequest, experiment_id, action: str) -> HttpResponse:
    """Pause, resume or stop the latest sweep; htmx gets the progress section back (into #experiment-steer)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    steer, done = STEERING[action]
    try:
        steer(experiment=experiment)
        notice, level = done, messages.SUCCESS
    except Conflict as exc:
        notice, level = str(exc), messages.ERROR
    experiment.refresh_from_db(fields=["status"])  # the steering moved it along with its sweep
    if not request.htmx:
        messages.add_message(request, level, notice)
        return redirect("web:experiment", experiment_id=experiment.pk)
    context = {**_progress_context(request, experiment), "notice": notice, "notice_error": level == messages.ERROR}
    return render(request, f"{LIVE}#experiment-progress", context)  # the start panel follows by push


@login_required
@require_POST
def sweep_approve(request: HttpRequest, sweep_id) -> HttpResponse:
    """Approve what a paused agent sweep asked a person for, with an optional note, and resume it (as REST's
    approve-continue does); htmx gets the progress section back, as for steering."""
    sweep = sweep_get(user=request.user, sweep_id=sweep_id)
    experiment = experiment_get(user=request.user, experiment_id=sweep.experiment_id)
    form = ApproveForm(request.POST)
    approved = form_saved(request, form, lambda data: agent_sweep_approve(user=request.user, sweep=sweep,
                                                                          note=data["note"]))
    if approved is not None:
        notice, level = "Approved: the agent continues.", messages.SUCCESS
    else:
        notice, level = " ".join(str(e) for errors in form.errors.values() for e in errors), messages.ERROR
    experiment.refresh_from_db(fields=["status"])
    if not request.htmx:
        messages.add_message(request, level, notice)
        return redirect("web:experiment", experiment_id=experiment.pk)
    context = {**_progress_context(request, experiment), "notice": notice, "notice_error": level == messages.ERROR,
               "approve_form": None if approved else form}
    return render(request, f"{LIVE}#experiment-progress", context, status=200 if approved else form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def experiment_redirect(request: HttpRequest, experiment_id) -> HttpResponse:
    """GET: the remaining plan and its parameter space to edit; POST: replace the unstarted remainder."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    progress = sweep_progress(experiment=experiment)
    space = progress.sweep.parameter_space if progress and progress.active else experiment.parameter_space
    form = RedirectForm(request.POST if request.method == "POST" else None,
                        initial={"parameter_space": json.dumps(space, indent=2)})


    redirected = form_saved(request, form, lambda data: _redirect(request, experiment, data))
    if redirected is not None:
        _, removed, added = redirected
        messages.success(request, f"Plan redirected: {removed:,} queued runs dropped, {added:,} planned.")
        return redirect("web:experiment", experiment_id=experiment.pk)
    context = {"experiment": experiment, "progress": progress, "form": form, "can_write": True}
    return render(request, REDIRECT, context, status=form_status(form))


@login_required
@require_POST
def experiment_redirect_preview(request: HttpRequest, experiment_id) -> HttpResponse:
    """What the redirect form would do if applied now: the same service, as a dry run (htmx, on every change)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    form = RedirectForm(request.POST)
    preview = None
    if form.is_valid():
        try:
            _, removed, added = _redirect(request, experiment, form.cleaned_data, dry_run=True)
            progress = sweep_progress(experiment=experiment)
            preview = {"removed": removed, "added": added, "runs_total": progress.runs_total - removed + added}
        except ServiceError as exc:
            form_add_service_errors(form, exc)
    context = {"experiment": experiment, "form": form, "preview": preview, "preview_failed": preview is None}
    return render(request, f"{REDIRECT}#redirect-preview", context)


@guest_readable
@require_GET
def experiment_timeline(request: HttpRequest, experiment_id) -> HttpResponse:
    """The timeline section, filtered by event type (without htmx: the page, filtered)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    if not request.htmx:
        page = reverse("web:experiment", kwargs={"experiment_id": experiment.pk})
        return redirect(f"{page}?{request.GET.urlencode()}#experiment-timeline")
    context = {**_timeline_context(request, experiment), "can_write": request.user.is_authenticated}
    return render(request, f"{LIVE}#experiment-timeline", context)


def _redirect(request: HttpRequest, experiment: Experiment, data: dict[str, Any], *, dry_run: bool = False):
    valid = parameter_space_validate(user=request.user, experiment=experiment, parameter_space=data["parameter_space"])
    return sweeps.sweep_redirect(experiment=experiment, parameter_space=valid, kind=data["type"] or None,
                                 n=data["n"], seed=data["seed"], dry_run=dry_run)


def _dry_run(request: HttpRequest, experiment: Experiment, form: SweepForm) -> DryRun:
    space = sweep_space_resolve(user=request.user, experiment=experiment, parameter_space=None)
    return sweep_dry_run(experiment=experiment, parameter_space=space, budget_tokens=form.cleaned_data["budget_tokens"],
                         budget_usd=form.cleaned_data["budget_usd"], batch=form.cleaned_data["batch"],
                         options=form.planner_options(), **form.plan_options())


def _sweep_form(request: HttpRequest, experiment: Experiment, data=None, **kwargs) -> SweepForm:
    """The start form, its endpoint choices the viewer's endpoints and its prompt choices the pipeline's prompts."""
    endpoints = [(str(pk), label) for pk, label in endpoint_list(user=request.user).values_list("pk", "label")]
    axes = [(f"stages.{i}.{part}", f"{stage.get('name') or f'Stage {i + 1}'}: {words}")
            for i, stage in enumerate(experiment.pipeline_stages)
            for part, words in (("system_prompt", "system prompt"), ("prompt_template", "prompt template"))]
    return SweepForm(data, endpoints=endpoints, prompt_axes=axes, **kwargs)


def _progress_context(request: HttpRequest, experiment: Experiment) -> dict[str, Any]:
    # Only a signed-in owner reads their experiment while signed in (others get a 404): they may write.
    return {"experiment": experiment, "progress": sweep_progress(experiment=experiment),
            "can_write": request.user.is_authenticated}


def _timeline_context(request: HttpRequest, experiment: Experiment) -> dict[str, Any]:
    kinds = TimelineFilterForm(request.GET)
    kind = kinds.cleaned_data["kind"] if kinds.is_valid() else ""
    events = timeline_for_experiment(user=request.user, experiment_id=experiment.pk, kinds=[kind] if kind else None)
    return {"experiment": experiment, "event_kinds": list(Kind), "kind": kind,
            "events": paginate_feed(request, events, param="timeline_page", per_page=TIMELINE_PER_PAGE),
            "timeline_query": f"kind={kind}" if kind else ""}


def _part(request: HttpRequest, partials: tuple[str, ...]) -> str | None:
    """The partial render_page will answer with (htmx, not boosted), or None for the whole page."""
    if request.htmx and not request.htmx.boosted:
        return request.htmx.target if request.htmx.target in partials else partials[0]
    return None


def _page_context(request: HttpRequest, experiment: Experiment, *, part: str | None = None,
                  **extra) -> dict[str, Any]:
    """The live view's context; for one `part` (an htmx request for a region, e.g. the start panel a push
    asks for) only what that region renders, not the leaderboard and timeline of the whole page."""
    whole = part is None
    context: dict[str, Any] = {"experiment": experiment, "can_write": request.user.is_authenticated}
    if whole or part in ("experiment-progress", "experiment-start"):
        context.update(_progress_context(request, experiment))
    if whole or part == "experiment-timeline":
        context.update(_timeline_context(request, experiment))
    if whole:  # the chart loads after the page (web:experiment_chart)
        context.update(leaderboard_context(request=request, experiment=experiment), chart_deferred=True)
    context.update(extra)
    progress = context.get("progress")
    # The start panel while no sweep is queued, running or paused (a paused one is steered, not replaced).
    if (whole or part == "experiment-start") and context["can_write"] and not (progress and progress.active):
        if "sweep_form" not in context:
            context["sweep_form"] = _sweep_form(request, experiment, initial={"repeats": experiment.repeats})
    return context


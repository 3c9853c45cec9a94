"""Run detail (summary, config, every call and score), human rating, and the rating queue (H5)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import InvalidInput
from apps.endpoints.selectors import endpoint_list
from apps.experiments.models import Experiment
from apps.experiments.secrets import point_endpoints_masked
from apps.experiments.selectors import experiment_get
from apps.runs import selectors
from apps.runs.label_reports import run_label_reports
from apps.runs.leaderboard import weighted_interval
from apps.runs.masking import endpoints_hidden, run_config_masked, text_endpoints_masked
from apps.runs.models import Run
from apps.runs.rating_queue import queue_entry, queue_next, rating_progress, rating_scorer
from apps.runs.run_outputs import output_ratings, run_item_ids, run_item_outputs, run_summaries
from apps.runs.services.ratings import run_rate as rating_save
from apps.web.access import guest_readable
from apps.web.forms_ratings import QueueRatingForm, RatingForm
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status

ITEMS_PER_PAGE = 10
DETAIL_PARTIALS = ("run-summary", "run-outputs")


@guest_readable
@require_GET
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    run = selectors.run_get(user=request.user, run_id=run_id, outputs=False)
    return render_page(request, "web/runs/detail.html", _detail_context(request, run), partials=DETAIL_PARTIALS)


@login_required
@require_POST
def run_rate(request: HttpRequest, run_id) -> HttpResponse:
    """Save one output's rating; htmx swaps the widget (showing it), a plain form goes back to the run."""
    run = selectors.run_get(user=request.user, run_id=run_id, outputs=False)
    form = RatingForm(request.POST)
    saved = form_saved(request, form, lambda data: rating_save(user=request.user, run=run, **form.rate_kwargs()))
    target = request.POST.get("next", "")
    if saved is not None and not request.htmx:
        messages.success(request, "Rating saved.")
        safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        return redirect(target if safe else reverse("web:run", args=[run.pk]))
    item_id, repeat = _output_of(form)
    context = {**_widget_context(run, item_id=item_id, repeat=repeat), "form": None if saved else form,
               "saved": saved is not None, "action": reverse("web:run_rate", args=[run.pk]), "next": target}
    template = "web/runs/rating.html#run-rating" if request.htmx else "web/runs/rating.html"
    return render(request, template, context, status=form_status(None if saved else form))


@login_required
@require_http_methods(["GET", "POST"])
def rating_queue(request: HttpRequest, experiment_id) -> HttpResponse:
    """One unrated output at a time; a saved rating moves on to the next (`skip` counts skipped ones)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    scorer = rating_scorer(experiment=experiment)
    skip = _skip(request)
    form, entry = None, None
    if request.method == "POST":
        form = QueueRatingForm(request.POST)
        saved = form_saved(request, form, lambda data: _queue_rate(request, experiment, form))
        if saved is not None:
            if not request.htmx:
                messages.success(request, "Rating saved.")
                return redirect(f"{reverse('web:rating_queue', args=[experiment.pk])}?{urlencode({'skip': skip})}")
            form = None
        elif {"run", "item_id"} <= set(getattr(form, "cleaned_data", {})):  # refused: the same output again
            data = form.cleaned_data
            entry = queue_entry(experiment=experiment, run_id=data["run"], item_id=data["item_id"],
                                repeat=data.get("repeat") or 0, position=skip)
    entry = entry or queue_next(experiment=experiment, scorer_name=scorer.name, skip=skip)
    rated, total = rating_progress(experiment=experiment, scorer_name=scorer.name)
    context = {"experiment": experiment, "entry": entry, "form": form, "skip": skip, "rated": rated,
               "total": total, "remaining": total - rated, "scale": scorer.options.get("scale", "both"),
               "scorer": scorer, "implicit": not experiment.spec.scoring.human(), "can_write": True,
               "action": reverse("web:rating_queue", args=[experiment.pk])}
    return render_page(request, "web/runs/queue.html", context, partials=("rating-queue",), status=form_status(form))


def _queue_rate(request: HttpRequest, experiment: Experiment, form: QueueRatingForm):
    run = selectors.run_get(user=request.user, run_id=form.cleaned_data["run"], outputs=False)
    if run.experiment_id != experiment.pk:
        raise InvalidInput(errors={"run": ["This run belongs to another experiment."]})
    return rating_save(user=request.user, run=run, **form.rate_kwargs())


def _skip(request: HttpRequest) -> int:
    raw = request.POST.get("skip") if request.method == "POST" else request.GET.get("skip")
    try:
        return max(0, min(int(raw or 0), 10**9))
    except ValueError:
        return 0


def _output_of(form: RatingForm) -> tuple[str, int | None]:
    """The output a rating form names, even when the form is invalid (to render its widget again)."""
    data = getattr(form, "cleaned_data", {})
    repeat = data.get("repeat")
    if repeat is None and str(form.data.get("repeat", "")).isdigit():
        repeat = int(form.data["repeat"])
    return str(data.get("item_id") or form.data.get("item_id", ""))[:200], repeat


def _widget_context(run: Run, *, item_id: str, repeat: int | None) -> dict:
    scorer = rating_scorer(experiment=run.experiment)
    return {"run": run, "item_id": item_id, "repeat": repeat, "scale": scorer.options.get("scale", "both"),
            "ratings": output_ratings(run=run, item_id=item_id, repeat=repeat), "can_write": True}


def _detail_context(request: HttpRequest, run: Run) -> dict:
    experiment = run.experiment
    hidden = endpoints_hidden(viewer=request.user, owner_id=experiment.project.owner_id)
    config = run_config_masked(run.config) if hidden else (run.config or {})
    page = paginate(request, run_item_ids(run=run), per_page=ITEMS_PER_PAGE)
    items = run_item_outputs(run=run, item_ids=page.object_list)
    if hidden:
        # Errors name the endpoint a call could not use; its id is the owner's.
        for stage in (s for item in items for rep in item.repeats for s in rep.stages):
            stage.error = text_endpoints_masked(stage.error)
    summaries = run_summaries(run=run)
    scorer = rating_scorer(experiment=experiment)
    return {
        "run": run, "experiment": experiment, "project": experiment.project,
        "can_write": request.user.pk == experiment.project.owner_id,
        "point": point_endpoints_masked(run.point) if hidden else run.point,
        "error": text_endpoints_masked(run.error) if hidden else run.error,
        "stages": _stage_rows(request, config, hidden=hidden),
        "summaries": summaries, "weighted_ci": weighted_interval(summaries),
        "label_reports": run_label_reports(run=run),
        "n": max((s.n for s in summaries), default=0),
        "config_json": json.dumps(config, indent=2, sort_keys=True, default=str),
        "items": items, "page": page, "scale": scorer.options.get("scale", "both"),
        "implicit": not experiment.spec.scoring.human(),
        "action": reverse("web:run_rate", args=[run.pk]), "next": request.get_full_path(),
    }


def _stage_rows(request: HttpRequest, config: dict, *, hidden: bool) -> list[dict]:
    """Each stage of the run's config with its endpoint named by label (for the owner; a guest sees none)."""
    stages = [stage for stage in config.get("stages") or [] if isinstance(stage, dict)]
    labels: dict[str, str] = {}
    if not hidden:
        ids = [str(stage.get("endpoint")) for stage in stages if _is_uuid(stage.get("endpoint"))]
        labels = {str(pk): label for pk, label in
                  endpoint_list(user=request.user).filter(pk__in=ids).values_list("pk", "label")} if ids else {}
    return [{"index": index, "name": stage.get("name") or f"Stage {index + 1}", "model": stage.get("model", ""),
             "endpoint": labels.get(str(stage.get("endpoint")), "deleted endpoint") if not hidden else "hidden",
             "params": stage.get("params") or {}, "system_prompt": stage.get("system_prompt", ""),
             "prompt_template": stage.get("prompt_template", "")}
            for index, stage in enumerate(stages)]


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True

"""HTML: a deployment's Versions tab (list, add, activate, delete a non-active one, a word diff against the
active version) and promoting an approved run into a new version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.deployments.models import Deployment
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services.promote import run_promote
from apps.deployments.services.versions import version_activate, version_create, version_delete
from apps.runs import selectors as run_selectors
from apps.runs.models import Run
from apps.web.diffing import word_diff
from apps.web.forms_deployments import PromoteForm, VersionForm
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status

VERSIONS = "web/deployments/versions.html"


def _versions_context(request: HttpRequest, deployment: Deployment, form: VersionForm | None = None) -> dict:
    return {"deployment": deployment, "tab": "versions", "form": form or VersionForm(),
            "active": selectors.deployment_active_version(deployment=deployment),
            "versions": paginate(request, selectors.versions_for(deployment=deployment))}


@login_required
@require_http_methods(["GET", "POST"])
def deployment_versions(request: HttpRequest, deployment_id) -> HttpResponse:
    """The Versions tab; a POST adds a version (identical content: the existing one, and it says so)."""
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    form = VersionForm(request.POST if request.method == "POST" else None)
    saved = form_saved(request, form, lambda data: version_create(
        deployment=deployment, created_by=request.user.get_username(), **data))
    if saved is not None:
        version, created = saved
        if created:
            messages.success(request, f"Version {version.number} added{' and activated' if version.is_active else ''}.")
        else:
            messages.info(request, f"This prompt already exists as version {version.number}; nothing was added.")
        return redirect("web:deployment_versions", deployment_id=deployment.pk)
    context = _versions_context(request, deployment, form)
    return render_page(request, VERSIONS, context, partials=["version-list"], status=form_status(form))


@login_required
@require_GET
def version_detail(request: HttpRequest, version_id) -> HttpResponse:
    """One version's prompt, with a word diff against the active version."""
    version = selectors.version_get(user=request.user, version_id=version_id)
    deployment = version.deployment
    active = selectors.deployment_active_version(deployment=deployment)
    diffs = []
    if active is not None and active.pk != version.pk:
        diffs = [(label, word_diff(getattr(active, field), getattr(version, field)))
                 for label, field in (("System prompt", "system_prompt"), ("User message template", "user_template"))
                 if getattr(active, field) or getattr(version, field)]
    context = {"deployment": deployment, "version": version, "active": active, "diffs": diffs, "tab": "versions",
               "heading": f"v{version.number}", "active_label": f"Active v{active.number}" if active else ""}
    return render(request, "web/deployments/version.html", context)


@login_required
@require_POST
def version_activate_view(request: HttpRequest, version_id) -> HttpResponse:
    version = selectors.version_get(user=request.user, version_id=version_id)
    version = version_activate(version=version, actor=request.user.get_username())
    messages.success(request, f"Version {version.number} is active: the gateway applies it from the next request.")
    return redirect("web:deployment_versions", deployment_id=version.deployment_id)


@login_required
@require_http_methods(["GET", "POST"])
def version_delete_view(request: HttpRequest, version_id) -> HttpResponse:
    version = selectors.version_get(user=request.user, version_id=version_id)
    conflict = None
    if request.method == "POST":
        try:
            version_delete(version=version)
        except Conflict as exc:
            conflict = exc
        else:
            messages.success(request, f"Version {version.number} deleted.")
            return redirect("web:deployment_versions", deployment_id=version.deployment_id)
    context = {"deployment": version.deployment, "version": version, "conflict": conflict}
    return render(request, "web/deployments/version_delete.html", context, status=409 if conflict else 200)


@login_required
@require_http_methods(["GET", "POST"])
def run_promote_view(request: HttpRequest, run_id) -> HttpResponse:
    """An approved run's prompt, model and parameters as a new version of a deployment (and maybe an A/B test)."""
    run = run_selectors.run_get(user=request.user, run_id=run_id, outputs=False)
    deployments = selectors.deployments_for(user=request.user)
    stages = [stage.get("name") or f"Stage {index + 1}" for index, stage in
              enumerate((run.config or {}).get("stages") or []) if isinstance(stage, dict)]
    form = PromoteForm(request.POST if request.method == "POST" else None, deployments=deployments, stages=stages)
    saved = form_saved(request, form, lambda data: run_promote(run=run, actor=request.user.get_username(),
                                                               **form.service_fields()),
                       fields={"split": "new_weight"})
    if saved is not None:
        version, ab_test = saved
        note = f" and A/B test “{ab_test.name}” started against the active version" if ab_test else ""
        messages.success(request, f"Run promoted to version {version.number} of “{version.deployment.name}”{note}.")
        return redirect(reverse("web:deployment_versions", args=[version.deployment_id]))
    context = {"run": run, "experiment": run.experiment, "form": form, "stages": stages,
               "approved": run.approval == Run.Approval.APPROVED, "has_deployments": deployments.exists()}
    return render(request, "web/deployments/promote.html", context, status=form_status(form))

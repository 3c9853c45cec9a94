"""Projects: the list with search, create, detail (experiments, notes, saved configs, exports), delete."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from apps.exports.saved_configs import saved_config_list
from apps.exports.selectors import export_list
from apps.projects import selectors, services
from apps.projects.models import Project
from apps.runs.masking import endpoints_hidden, saved_config_masked
from apps.runs.summaries import project_experiment_summaries
from apps.web.access import guest_readable
from apps.web.forms import NotesForm, ProjectForm, SearchForm
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status

DETAIL_PARTIALS = ("project-experiments", "project-saved-configs", "project-exports", "project-notes")


@guest_readable
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    projects = selectors.project_list(user=request.user)
    if query:
        projects = projects.filter(name__icontains=query)  # the API's `search` filter
    context = {"search": search, "projects": paginate(request, projects),
               "query": urlencode({"q": query}) if query else ""}
    return render_page(request, "web/projects.html", context, partials=("project-list",))


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST if request.method == "POST" else None)
    project = form_saved(request, form, lambda data: services.project_create(owner=request.user, **data))
    if project is not None:
        messages.success(request, f"Project “{project.name}” created.")
        return redirect("web:project_detail", project_id=project.pk)
    return render_page(request, "web/project_new.html", {"form": form}, status=form_status(form))


@guest_readable
@require_GET
def project_detail(request: HttpRequest, project_id) -> HttpResponse:
    project = selectors.project_get(user=request.user, project_id=project_id)
    return render_page(request, "web/project_detail.html", _detail_context(request, project),
                       partials=DETAIL_PARTIALS)


@login_required
@require_http_methods(["GET", "POST"])
def project_notes(request: HttpRequest, project_id) -> HttpResponse:
    """GET: the notes as a form (in place with htmx); POST: save them through project_update."""
    project = selectors.project_get_owned(user=request.user, project_id=project_id)
    form = NotesForm(request.POST if request.method == "POST" else None, initial={"notes": project.notes})
    saved = form_saved(request, form, lambda data: services.project_update(project=project, notes=data["notes"]))
    if saved is not None:
        if not request.htmx:
            messages.success(request, "Notes saved.")
            return redirect("web:project_detail", project_id=project.pk)
        form = None
    context = {**_detail_context(request, project), "notes_form": form}
    return render_page(request, "web/project_detail.html", context, partials=("project-notes",),
                       status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, project_id) -> HttpResponse:
    """GET: what deleting will remove, and a confirm button; POST: delete."""
    project = selectors.project_get_owned(user=request.user, project_id=project_id)
    if request.method == "POST":
        services.project_delete(project=project)
        messages.success(request, f"Project “{project.name}” deleted.")
        return redirect("web:projects")
    experiments = project_experiment_summaries(project=project)
    return render_page(request, "web/project_delete.html", {"project": project, "experiments": experiments})


def _detail_context(request: HttpRequest, project: Project) -> dict:
    configs = paginate(request, saved_config_list(project=project), param="configs_page", per_page=10)
    hidden = endpoints_hidden(viewer=request.user, owner_id=project.owner_id)
    for saved in configs:
        # Endpoint ids are the owner's; anyone else reads the config with them masked, as in the API.
        saved.shown_config = json.dumps(saved_config_masked(saved.config) if hidden else saved.config, indent=2)
    return {
        "project": project,
        "can_edit": request.user.pk == project.owner_id,
        "experiments": paginate(request, project_experiment_summaries(project=project), param="experiments_page"),
        "configs": configs,
        "exports": paginate(request, export_list(project=project), param="exports_page", per_page=10),
    }

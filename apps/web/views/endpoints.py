"""HTML: the user's LLM endpoints (list, add, edit, test connection, delete); never a guest's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.endpoints import selectors, services
from apps.endpoints.probe import endpoint_probe
from apps.experiments.endpoint_usage import endpoint_delete as endpoint_delete_service
from apps.web.forms_endpoints import EndpointEditForm, EndpointForm, endpoint_initial
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.endpoint_list(user=request.user))
    return render_page(request, "web/endpoints/list.html", {"page": page}, partials=["endpoint-list"])


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST if request.method == "POST" else None)
    endpoint = form_saved(request, form, lambda data: services.endpoint_create(owner=request.user, **data))
    if endpoint is not None:
        messages.success(request, f"Endpoint “{endpoint.label}” added. Test its connection below.")
        return redirect("web:endpoint_edit", endpoint_id=endpoint.pk)
    return render(request, "web/endpoints/form.html", {"form": form}, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
    data = request.POST if request.method == "POST" else None
    form = EndpointEditForm(data, initial=endpoint_initial(endpoint), endpoint=endpoint)
    saved = form_saved(request, form, lambda data: services.endpoint_update(endpoint=endpoint, **form.service_fields()))
    if saved is not None:
        endpoint, cleared = saved
        note = " Its API key was removed." if cleared else ""
        messages.success(request, f"Endpoint “{endpoint.label}” saved.{note}")
        return redirect("web:endpoint_edit", endpoint_id=endpoint.pk)
    if form.errors:
        endpoint.refresh_from_db()  # the service may have set attributes before refusing
    context = {"form": form, "endpoint": endpoint}
    return render(request, "web/endpoints/form.html", context, status=form_status(form))


@login_required
@require_POST
def endpoint_test(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
    # The REST API's probe: a failed connection is a result to show, not an error page.
    result = endpoint_probe(endpoint=endpoint)
    form = EndpointEditForm(initial=endpoint_initial(endpoint), endpoint=endpoint)
    context = {"form": form, "endpoint": endpoint, "probe": result}
    return render_page(request, "web/endpoints/form.html", context, partials=["endpoint-test"])


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, endpoint_id) -> HttpResponse:
    endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
    conflict = None
    if request.method == "POST":
        try:
            endpoint_delete_service(endpoint=endpoint)
        except Conflict as exc:
            conflict = exc
        else:
            messages.success(request, f"Endpoint “{endpoint.label}” deleted.")
            return redirect("web:endpoints")
    context = {"endpoint": endpoint, "conflict": conflict}
    return render(request, "web/endpoints/delete.html", context, status=409 if conflict else 200)

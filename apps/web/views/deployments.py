"""HTML: the user's deployments (list, add, delete) and a deployment's Overview tab (settings, gateway keys
shown once, a curl snippet); never a guest's: a deployment names an endpoint and holds gateway keys."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.ids import canonical_uuid
from apps.deployments.models import Deployment
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services import deployments as services
from apps.deployments.services.keys import deployment_key_create, deployment_key_revoke
from apps.endpoints.selectors import endpoint_get
from apps.web.builder_live import endpoint_models
from apps.web.forms_deployments import MODELS_LIST, DeploymentForm, KeyForm, deployment_initial
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status

DETAIL = "web/deployments/detail.html"


@login_required
@require_GET
def deployment_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.deployments_for(user=request.user))
    page.object_list = selectors.deployment_rows(deployments=list(page.object_list))
    return render_page(request, "web/deployments/list.html", {"page": page}, partials=["deployment-list"])


@login_required
@require_http_methods(["GET", "POST"])
def deployment_create(request: HttpRequest) -> HttpResponse:
    form = DeploymentForm(request.POST if request.method == "POST" else None, user=request.user)
    deployment = form_saved(request, form, lambda data: services.deployment_create(owner=request.user,
                                                                                   **form.service_fields()))
    if deployment is not None:
        messages.success(request, f"Deployment “{deployment.name}” added. Create a gateway key and a first "
                                  "prompt version.")
        return redirect("web:deployment", deployment_id=deployment.pk)
    return render(request, "web/deployments/new.html", {"form": form}, status=form_status(form))


@login_required
@require_GET
def deployment_models(request: HttpRequest) -> HttpResponse:
    """The model <datalist> of the endpoint chosen in a deployment form (the builder's cached model list)."""
    context = {"list_id": MODELS_LIST, "models": [], "note": "Choose an endpoint to list its models."}
    endpoint_id = canonical_uuid(request.GET.get("endpoint", ""))
    if endpoint_id:
        endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
        context["models"], context["note"] = endpoint_models(endpoint)
    return render(request, "web/deployments/models.html#deployment-models", context)


@login_required
@require_http_methods(["GET", "POST"])
def deployment_detail(request: HttpRequest, deployment_id) -> HttpResponse:
    """The Overview tab: settings (saved on POST), keys and how to call the gateway."""
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    data = request.POST if request.method == "POST" else None
    form = DeploymentForm(data, initial=deployment_initial(deployment), user=request.user)
    saved = form_saved(request, form, lambda data: services.deployment_update(deployment=deployment,
                                                                              **form.service_fields()))
    if saved is not None:
        messages.success(request, f"Deployment “{saved.name}” saved.")
        return redirect("web:deployment", deployment_id=saved.pk)
    if form.errors:
        deployment.refresh_from_db()
    context = {**overview_context(request, deployment), "form": form}
    return render_page(request, DETAIL, context, partials=["deployment-keys"], status=form_status(form))


def overview_context(request: HttpRequest, deployment: Deployment, **extra) -> dict:
    return {"deployment": deployment, "tab": "overview",
            "active": selectors.deployment_active_version(deployment=deployment),
            "keys": selectors.deployment_keys_for(deployment=deployment),
            "key_form": extra.pop("key_form", None) or KeyForm(),
            "gateway_url": request.build_absolute_uri("/gateway/v1/chat/completions"), **extra}


@login_required
@require_POST
def deployment_key_new(request: HttpRequest, deployment_id) -> HttpResponse:
    """A new gateway key: its raw value exists only in this response (htmx: the keys section; else the page)."""
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    key_form = KeyForm(request.POST)
    created = form_saved(request, key_form, lambda data: deployment_key_create(deployment=deployment,
                                                                               name=data["name"]))
    key, raw = created if created is not None else (None, "")
    context = overview_context(request, deployment, key_form=None if created else key_form, new_key=key,
                               raw_key=raw)
    status = 201 if created else form_status(key_form)
    if request.htmx:
        return render(request, f"{DETAIL}#deployment-keys", context, status=status)
    form = DeploymentForm(initial=deployment_initial(deployment), user=request.user)
    return render(request, DETAIL, {**context, "form": form}, status=status)


@login_required
@require_POST
def deployment_key_revoke_view(request: HttpRequest, deployment_id, key_id) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    key = deployment_key_revoke(deployment=deployment, key_id=key_id)
    notice = f"Key “{key.name}” ({key.prefix}…) revoked: the gateway refuses it from now on."
    if request.htmx:
        return render(request, f"{DETAIL}#deployment-keys", overview_context(request, deployment, notice=notice))
    messages.success(request, notice)
    return redirect("web:deployment", deployment_id=deployment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def deployment_delete(request: HttpRequest, deployment_id) -> HttpResponse:
    deployment = selectors.deployment_get(user=request.user, deployment_id=deployment_id)
    if request.method == "POST":
        services.deployment_delete(deployment=deployment)
        messages.success(request, f"Deployment “{deployment.name}” deleted.")
        return redirect("web:deployments")
    return render(request, "web/deployments/delete.html", {"deployment": deployment})

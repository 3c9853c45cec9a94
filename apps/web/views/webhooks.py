"""HTML: the user's webhooks (list, add and edit with a signing secret shown once, delete); never a guest's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.web.forms_webhooks import WebhookEditForm, WebhookForm, header_names, webhook_initial
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status
from apps.webhooks import selectors, services


@login_required
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.webhook_list(user=request.user))
    return render_page(request, "web/webhooks/list.html", {"page": page}, partials=["webhook-list"])


@login_required
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None, user=request.user)
    created = form_saved(request, form, lambda data: services.webhook_create(owner=request.user,
                                                                             **form.service_fields()),
                         fields={"project_id": "project"})
    if created is not None:
        webhook, secret = created
        # The generated secret exists in plain text only in this response.
        return render(request, "web/webhooks/created.html", {"webhook": webhook, "secret": secret}, status=201)
    return render(request, "web/webhooks/form.html", {"form": form}, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, webhook_id) -> HttpResponse:
    webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    data = request.POST if request.method == "POST" else None
    form = WebhookEditForm(data, initial=webhook_initial(webhook), user=request.user, webhook=webhook)
    saved = form_saved(request, form, lambda data: services.webhook_update(webhook=webhook, **form.service_fields()),
                       fields={"project_id": "project", "headers": "new_headers"})
    if saved is not None:
        webhook, cleared = saved
        if cleared:
            messages.warning(request, "The URL now points at another server, so the signing secret and headers "
                                      "not given anew were removed.")
        secret = form.cleaned_data["new_secret"] and webhook.get_secret()
        if secret:  # shown in this response only, as when the webhook was added
            return render(request, "web/webhooks/created.html", {"webhook": webhook, "secret": secret, "edited": True})
        messages.success(request, f"Webhook to {webhook.url} saved.")
        return redirect("web:webhooks")
    if form.errors:
        webhook.refresh_from_db()  # the service may have set attributes before refusing
    context = {"form": form, "webhook": webhook, "header_names": header_names(webhook)}
    return render(request, "web/webhooks/form.html", context, status=form_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, webhook_id) -> HttpResponse:
    webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    if request.method == "POST":
        services.webhook_delete(webhook=webhook)
        messages.success(request, f"Webhook to {webhook.url} deleted.")
        return redirect("web:webhooks")
    return render(request, "web/webhooks/delete.html", {"webhook": webhook})

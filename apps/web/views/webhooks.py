"""HTML: the user's webhooks (list, add and edit with a signing secret shown once, delete) and their delivery
log (send a test event, redeliver, re-enable); never a guest's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict
from apps.web.forms_webhooks import WebhookEditForm, WebhookForm, header_names, webhook_initial
from apps.web.rendering import paginate, render_page
from apps.web.submit import form_saved, form_status
from apps.webhooks import outbox, selectors, services

DELIVERIES_PER_PAGE = 20
EDIT = "web/webhooks/form.html"


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
    context = {"form": form, "webhook": webhook, "header_names": header_names(webhook),
               **_deliveries_context(request, webhook)}
    return render_page(request, EDIT, context, partials=["webhook-deliveries"], status=form_status(form))


def _deliveries_context(request: HttpRequest, webhook) -> dict:
    deliveries = selectors.delivery_list(user=request.user, webhook_id=webhook.pk)
    return {"webhook": webhook, "deliveries": paginate(request, deliveries, per_page=DELIVERIES_PER_PAGE)}


def _delivery_action(request: HttpRequest, webhook, action, done: str) -> HttpResponse:
    """Run a delivery action; htmx gets the deliveries section back with the outcome, a plain form a redirect."""
    try:
        action()
        notice, level = done, messages.SUCCESS
    except Conflict as exc:
        notice, level = str(exc), messages.ERROR
    if not request.htmx:
        messages.add_message(request, level, notice)
        return redirect("web:webhook_edit", webhook_id=webhook.pk)
    context = {**_deliveries_context(request, webhook), "notice": notice, "notice_error": level == messages.ERROR}
    return render(request, f"{EDIT}#webhook-deliveries", context)  # 200: htmx swaps no error response


@login_required
@require_POST
def webhook_test(request: HttpRequest, webhook_id) -> HttpResponse:
    webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    return _delivery_action(request, webhook, lambda: outbox.delivery_test_create(webhook=webhook),
                            "Test event queued; its outcome appears below in a moment.")


@login_required
@require_POST
def webhook_redeliver(request: HttpRequest, webhook_id, delivery_id: int) -> HttpResponse:
    delivery = selectors.delivery_get(user=request.user, webhook_id=webhook_id, delivery_id=delivery_id)
    return _delivery_action(request, delivery.webhook, lambda: outbox.delivery_redeliver(delivery=delivery),
                            f"Delivery {delivery.message_id} queued again with the same webhook-id.")


@login_required
@require_POST
def webhook_enable(request: HttpRequest, webhook_id) -> HttpResponse:
    """Switch a disabled webhook back on; its failure count starts again from zero."""
    webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    services.webhook_update(webhook=webhook, is_active=True)
    messages.success(request, f"Webhook to {webhook.url} switched back on.")
    return redirect("web:webhook_edit", webhook_id=webhook.pk)


@login_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, webhook_id) -> HttpResponse:
    webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
    if request.method == "POST":
        services.webhook_delete(webhook=webhook)
        messages.success(request, f"Webhook to {webhook.url} deleted.")
        return redirect("web:webhooks")
    return render(request, "web/webhooks/delete.html", {"webhook": webhook})

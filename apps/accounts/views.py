"""HTML: login, logout and the API keys page (first-boot setup is apps.instance.views.setup)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts import services
from apps.accounts.forms import ApiKeyForm, LoginForm
from apps.accounts.models import ApiKey
from apps.core.errors import RateLimited, form_add_service_errors


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check(request=request, **form.cleaned_data)
        except RateLimited as exc:
            form_add_service_errors(form, exc)
            return render(request, "accounts/login.html", {"form": form}, status=429)
        if user is not None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(request.GET.get("next") if _safe_next(request) else "web:dashboard")
        form.add_error(None, "Wrong username or password.")
    return render(request, "accounts/login.html", {"form": form}, status=400 if form.errors else 200)


def _safe_next(request: HttpRequest) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.GET.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


KEYS_PER_PAGE = 25


@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        _, new_key = services.api_key_create(user=request.user, name=form.cleaned_data["name"])
        form = ApiKeyForm()
    keys = Paginator(ApiKey.objects.filter(user=request.user), KEYS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "keys": keys, "new_key": new_key}
    # The pager's htmx request swaps only the list (the web app's render_page rule; accounts sits below it).
    template = "accounts/api_keys.html"
    if request.htmx and not request.htmx.boosted and request.method == "GET":
        template += "#api-key-list"
    return render(request, template, context)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, key_id) -> HttpResponse:
    try:
        services.api_key_revoke(user=request.user, key_id=key_id)
    except ApiKey.DoesNotExist:
        return HttpResponse(status=404)
    messages.success(request, "API key revoked.")
    return redirect("accounts:api_keys")

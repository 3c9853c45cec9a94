"""HTML: first-boot setup (the dashboard at / is apps.web's)."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.forms import SetupForm
from apps.accounts.services import setup_is_complete
from apps.core.errors import ServiceError, form_add_service_errors
from apps.instance.services import instance_setup


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    if setup_is_complete():
        return redirect("accounts:login")
    form = SetupForm(request.POST if request.method == "POST" else None,
                     initial={"token": request.GET.get("token", "")})
    if request.method == "POST" and form.is_valid():
        try:
            user = instance_setup(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                token=form.cleaned_data["token"],
            )
        except ServiceError as exc:
            form_add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("web:dashboard")
    return render(request, "accounts/setup.html", {"form": form}, status=400 if form.errors else 200)


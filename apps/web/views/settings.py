"""HTML: the instance's system settings, for admins (the Django admin stays for operations)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.core.models import SystemSettings
from apps.instance.services import system_settings_update
from apps.web.forms_settings import SystemSettingsForm, settings_initial
from apps.web.submit import form_saved, form_status


@login_required
@require_http_methods(["GET", "POST"])
def system_settings(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("Administrators only.")
    system = SystemSettings.load()
    data = request.POST if request.method == "POST" else None
    form = SystemSettingsForm(data, initial=settings_initial(system), user=request.user, current=system)
    # Only what this admin changed (against the page they saw), so two admins don't undo each other.
    changed = form_saved(request, form, lambda data: _changed(form, data))
    if changed is not None:
        messages.success(request, "Settings saved." if changed else "Nothing changed.")
        return redirect("web:settings")
    context = {"form": form, "system": system}
    return render(request, "web/settings.html", context, status=form_status(form))


def _changed(form: SystemSettingsForm, data: dict) -> dict:
    changed = {name: data[name] for name in form.changed_data}
    system_settings_update(fields=changed)
    return changed

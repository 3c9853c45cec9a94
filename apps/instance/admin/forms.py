"""Admin forms that save through the services, so the admin and the API apply the same rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router, transaction

from apps.core.errors import InvalidInput, ServiceError, form_add_service_errors


def secret_input(*, label: str, help_text: str, multiline: bool = False) -> forms.CharField:
    """A write-only field: it never renders the stored value, and blank means keep."""
    widget = (
        forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"})
        if multiline
        else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    )
    return forms.CharField(label=label, required=False, max_length=8192, widget=widget, help_text=help_text)


def _as_service_error(exc: ValidationError) -> InvalidInput:
    # Some services still raise Django's ValidationError; give it the contract's shape.
    return InvalidInput(errors=exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages})


class ServiceForm(forms.ModelForm):
    """A ModelForm whose save is one service call; the service's errors become errors of the matching field.

    The fields declared here only parse types: every rule is the service's, with the API's messages.
    """

    # Service error key → form field, where the form names its input differently (e.g. a write-only secret).
    service_fields: dict[str, str] = {}

    def service_save(self) -> models.Model:
        """Create or update `self.instance` from `self.cleaned_data` through the service; return the row."""
        raise NotImplementedError

    def _post_clean(self) -> None:
        # Replaces the model's own validation. Django admin turns only validation-time errors into form
        # errors, and the service both checks and writes, so the write happens here; ServiceAdmin rolls it
        # back if the page is refused after this (an inline formset, say).
        if self._errors:
            return
        try:
            self.instance = self.service_save()
        except ValidationError as exc:
            form_add_service_errors(self, _as_service_error(exc), fields=self.service_fields)
        except ServiceError as exc:
            form_add_service_errors(self, exc, fields=self.service_fields)

    def save(self, commit: bool = True) -> models.Model:
        if self.errors:
            raise ValueError("The form has errors; nothing was saved.")
        self.save_m2m = lambda: None
        return self.instance


class ServiceAdmin(admin.ModelAdmin):
    """A ModelAdmin whose form is a ServiceForm: saved during validation, undone if the page is refused."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if request.method == "POST" and not getattr(request, "_service_form_saved", False):
                transaction.set_rollback(True)
        return response

    def save_model(self, request, obj: Any, form: ServiceForm, change: bool) -> None:
        # The service already saved `obj` in form validation; reaching here means the whole page was accepted.
        request._service_form_saved = True

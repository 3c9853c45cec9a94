"""A form post saved through a service: the one place a page turns a service's refusal into field errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.http import HttpRequest

from apps.core.errors import ServiceError, form_add_service_errors

T = TypeVar("T")


def form_saved(request: HttpRequest, form: forms.BaseForm, save: Callable[[dict[str, Any]], T], *,
               fields: Mapping[str, str] | None = None) -> T | None:
    """On a POST whose form is valid, `save(form.cleaned_data)`'s result; otherwise None.

    A refusal from the service lands on the form (each field error next to its field), so the caller
    re-renders the form with `form_status(form)`.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ServiceError as exc:
        form_add_service_errors(form, exc, fields=fields)
        return None


def form_status(form: forms.BaseForm | None) -> int:
    """400 for a form showing errors (htmx swaps it in, see base.html), else 200."""
    return 400 if form is not None and form.errors else 200

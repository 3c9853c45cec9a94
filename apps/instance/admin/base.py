"""Shared admin pieces: links between admin pages, JSON display, read-only admins and inlines, UUID search."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join

EMPTY = "—"


def admin_url(obj: models.Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])


def admin_link(obj: models.Model | None, label: str | None = None) -> str:
    if obj is None:
        return EMPTY
    return format_html('<a href="{}">{}</a>', admin_url(obj), label if label is not None else str(obj))


def changelist_url(model: type[models.Model], **filters: Any) -> str:
    opts = model._meta
    query = "&".join(f"{key}={quote(str(value))}" for key, value in filters.items())
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{query}" if query else url


def changelist_link(model: type[models.Model], label: str, **filters: Any) -> str:
    return format_html('<a href="{}">{}</a>', changelist_url(model, **filters), label)


def links(*html: str) -> str:
    return format_html_join(" · ", "{}", ((link,) for link in html))


def pretty_json(value: Any, *, max_items: int | None = None) -> str:
    """Indented JSON in a <pre>; long lists show their first `max_items` entries and a count."""
    shown, note = value, ""
    if max_items is not None and isinstance(value, list) and len(value) > max_items:
        shown, note = value[:max_items], f"… and {len(value) - max_items} more"
    text = json.dumps(shown, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>{}', text, note)


def secret_status(*, is_set: bool, last4: str = "") -> str:
    if not is_set:
        return "not set"
    return f"set · …{last4}" if last4 else "set"


class UUIDSearchMixin:
    """A search term that is a UUID finds the row with that id (admin search cannot do it portably)."""

    def get_search_results(self, request, queryset, search_term):
        try:
            return queryset.filter(pk=uuid.UUID(search_term.strip())), False
        except ValueError:
            return super().get_search_results(request, queryset, search_term)


class OwnerSetOnAddMixin:
    """The owner is chosen when a row is added; services have no "change owner", so it is read-only after."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "owner"] if obj is not None else fields


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the engine: browse, search and filter them, never edit them here."""

    allow_delete = False
    leading_fields: tuple[str, ...] = ()

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return [*self.leading_fields, *(name for name in fields if name not in self.leading_fields)]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)


class _FirstRowsFormSet(BaseInlineFormSet):
    limit = 20

    def get_queryset(self):
        # One sliced queryset, kept, so the formset evaluates it once instead of once per row.
        if not hasattr(self, "_first_rows"):
            self._first_rows = super().get_queryset()[: self.limit]
        return self._first_rows


class ReadOnlyInline(admin.TabularInline):
    """A read-only inline showing at most `max_shown` rows; link to the full changelist beside it."""

    extra = 0
    max_shown = 20
    show_change_link = True
    can_delete = False
    formset = _FirstRowsFormSet
    related = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.limit = self.max_shown
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

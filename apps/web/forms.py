"""HTML forms: they parse; the services validate, and their field errors land next to the fields."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy


class ProjectForm(forms.Form):
    # Not required here: the service's "may not be blank" is the one rule, shown next to the field.
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"required": True, "autofocus": True}))
    description = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3}))


class NotesForm(forms.Form):
    notes = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 8}))


class SearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search projects",
                        widget=forms.SearchInput(attrs={
                            "placeholder": "Name contains…",
                            # Active search: the list follows the typing (the form's own submit works without JS).
                            "hx-get": reverse_lazy("web:projects"), "hx-trigger": "input changed delay:300ms, search",
                            "hx-target": "#project-list", "hx-swap": "outerHTML", "hx-push-url": "true",
                        }))

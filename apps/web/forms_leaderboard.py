"""The fork form: a name and the new parameter space as JSON (the service validates the space)."""

from __future__ import annotations

import json

from django import forms


class ForkForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, label="New experiment's name",
                           help_text="Left empty: the experiment's name with “(fork)”.")
    parameter_space = forms.CharField(
        required=False, strip=False, label="Parameter space (JSON)",
        help_text='A list of axes, e.g. [{"path": "stages.0.params.temperature", "values": [0.2, 0.7]}]; '
                  "[] runs just this configuration.",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}))

    def clean_parameter_space(self) -> list:
        text = self.cleaned_data["parameter_space"].strip() or "[]"
        try:
            space = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from exc
        if not isinstance(space, list) or not all(isinstance(axis, dict) for axis in space):
            raise forms.ValidationError("Must be a JSON list of axis objects.")
        return space

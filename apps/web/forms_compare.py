"""The compare picker: two run ids, typed in or chosen from one experiment's ranked runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict


def run_pair(query: QueryDict) -> dict[str, str]:
    """`a`/`b` from `?a=…&b=…`, or from the leaderboard's checkboxes (`?run=…&run=…`)."""
    picked = [value for value in query.getlist("run") if value]
    a = query.get("a") or (picked.pop(0) if picked else "")
    b = query.get("b") or (picked.pop(0) if picked else "")
    return {"a": a.strip(), "b": b.strip()}


class CompareForm(forms.Form):
    a = forms.UUIDField(required=False, label="Run A", error_messages={"invalid": "Enter a valid run id."})
    b = forms.UUIDField(required=False, label="Run B", error_messages={"invalid": "Enter a valid run id."})

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if choices is None:
                field.widget.attrs["placeholder"] = "run id (a UUID)"
            else:
                field.widget = forms.Select(choices=[("", "Choose a run…"), *choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "a" not in self.errors and not data.get("a"):
            self.add_error("a", "Choose the first run.")
        if "b" not in self.errors and not data.get("b"):
            self.add_error("b", "Choose a second run to compare with.")
        return data

"""The webhook form: types only; apps.webhooks.services checks the URL, event types and project."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.activity.kinds import Kind
from apps.projects.selectors import project_list
from apps.webhooks import services


def event_type_choices() -> list[tuple[str, str]]:
    return [(kind.value, f"{kind.value} — {kind.description}") for kind in Kind if kind.webhook]


class WebhookForm(forms.Form):
    url = forms.CharField(max_length=services.MAX_URL, label="URL", widget=forms.URLInput(
        attrs={"placeholder": "https://example.com/hooks/promptlooper"}))
    event_types = forms.MultipleChoiceField(
        choices=event_type_choices, widget=forms.CheckboxSelectMultiple, label="Events",
        error_messages={"required": "Choose at least one event."},
    )
    project = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All my projects",
        help_text="Only this project's events, or every project of yours.",
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = project_list(user=user).order_by("name")

    def service_fields(self) -> dict[str, Any]:
        project = self.cleaned_data["project"]
        return {"url": self.cleaned_data["url"], "event_types": self.cleaned_data["event_types"],
                "project_id": project.pk if project else None}

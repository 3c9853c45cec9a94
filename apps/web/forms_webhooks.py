"""The webhook form: types only; apps.webhooks.services checks the URL, event types and project."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.activity.kinds import Kind
from apps.core.crypto import SecretDecryptionError
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


class HeaderLinesField(forms.CharField):
    """`Name: value` lines ↔ a dict; apps.webhooks.services checks the names and values."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"})

    def clean(self, value: Any) -> dict[str, str]:
        headers: dict[str, str] = {}
        for number, line in enumerate(super().clean(value).splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, header_value = line.partition(":")
            if not sep or not name.strip():
                raise forms.ValidationError(f"Line {number}: expected “Name: value”.")
            headers[name.strip()] = header_value.strip()
        return headers


class WebhookEditForm(WebhookForm):
    """Editing: header values and the signing secret are write-only, so they can be replaced, never shown."""

    is_active = forms.BooleanField(required=False, label="Active",
                                   help_text="An inactive webhook keeps its settings but receives no events.")
    new_headers = HeaderLinesField(
        required=False, label="Replace custom headers",
        help_text="One “Name: value” per line; replaces every stored header. Leave blank to keep them.",
    )
    clear_headers = forms.BooleanField(required=False, label="Remove the stored custom headers")
    new_secret = forms.BooleanField(required=False, label="Generate a new signing secret",
                                    help_text="Shown once, after saving; the old one stops working.")

    def __init__(self, *args: Any, webhook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not webhook.headers_encrypted:
            del self.fields["clear_headers"]

    def service_fields(self) -> dict[str, Any]:
        """The fields for webhook_update; headers only when replaced ({} when removed)."""
        data = self.cleaned_data
        fields = {**super().service_fields(), "is_active": data["is_active"]}
        if data["new_headers"]:
            fields["headers"] = data["new_headers"]  # new headers win over a ticked "remove"
        elif data.get("clear_headers"):
            fields["headers"] = {}
        if data["new_secret"]:
            fields["secret"] = services.webhook_secret_generate()
        return fields


def webhook_initial(webhook) -> dict[str, Any]:
    return {"url": webhook.url, "event_types": webhook.event_types, "project": webhook.project_id,
            "is_active": webhook.is_active}


def header_names(webhook) -> list[str]:
    """The stored custom headers' names (their values are write-only)."""
    try:
        return sorted(webhook.get_headers())
    except SecretDecryptionError:
        return ["(cannot be decrypted: check ENCRYPTION_KEYS)"]

"""The system settings form: types and the service's bounds; apps.instance.services checks the rest."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.core.models import SystemSettings
from apps.endpoints.models import Endpoint
from apps.endpoints.selectors import endpoint_list
from apps.instance.services import LIMITS, MAX_LENGTHS


def _limit(name: str, **kwargs: Any) -> forms.IntegerField:
    low, high = LIMITS[name]
    return forms.IntegerField(min_value=low, max_value=high, **kwargs)


class SystemSettingsForm(forms.Form):
    allow_guest_access = forms.BooleanField(
        required=False, label="Guest access",
        help_text="Visitors who are not signed in may read projects and experiments (never change them).",
    )
    default_endpoint = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="None",
        help_text="Offered first when someone builds an experiment. Only your own endpoints are listed.",
    )
    default_model = forms.CharField(max_length=MAX_LENGTHS["default_model"], required=False)
    max_concurrent_runs = _limit("max_concurrent_runs", label="Concurrent runs")
    max_tokens_per_sweep = _limit("max_tokens_per_sweep", label="Token limit per sweep", help_text="0 means unlimited.")
    max_calls_per_sweep = _limit("max_calls_per_sweep", label="Call limit per sweep")
    egress_allowlist = forms.CharField(
        max_length=MAX_LENGTHS["egress_allowlist"], required=False, strip=False, label="Egress allowlist",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=SystemSettings._meta.get_field("egress_allowlist").help_text,
    )

    def __init__(self, *args: Any, user, current: SystemSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The admin's own endpoints, plus the current default so saving other fields keeps it.
        choices = endpoint_list(user=user) | Endpoint.objects.filter(pk=current.default_endpoint_id)
        self.fields["default_endpoint"].queryset = choices.distinct().order_by("label")
        # Each value as the page showed it rides along, so `changed_data` is what this admin changed
        # even when another admin saved in between.
        for field in self.fields.values():
            field.show_hidden_initial = True


def settings_initial(system: SystemSettings) -> dict[str, Any]:
    return {name: getattr(system, name) for name in SystemSettingsForm.base_fields}

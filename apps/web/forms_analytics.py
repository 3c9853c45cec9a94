"""The analytics page's filter: which time window, which traffic."""

from __future__ import annotations

from django import forms

from apps.analytics.windows import DEFAULT_WINDOW

WINDOWS = [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "All time")]
SOURCES = [("all", "Sweeps and gateway"), ("sweeps", "Offline sweeps"), ("gateway", "Gateway traffic")]


class AnalyticsFilterForm(forms.Form):
    window = forms.ChoiceField(choices=WINDOWS, required=False, initial=DEFAULT_WINDOW, label="Time window")
    source = forms.ChoiceField(choices=SOURCES, required=False, initial="all", label="Calls from")

    def choice(self) -> tuple[str, str]:
        """The window and source asked for (the defaults for what was left out)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("window") or DEFAULT_WINDOW, data.get("source") or "all"

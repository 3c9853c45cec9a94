"""Forms of the live experiment view: start a sweep (and its dry run), redirect it, filter the timeline.

Types and bounds as the REST serializers have them (apps/api/serializers/runs.py); the services check the rest.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms

from apps.activity.kinds import Kind
from apps.engine.planners import PLANNERS, redirect_kinds
from apps.experiments.validation import MAX_BIGINT

MAX_N = 100_000


class SweepForm(forms.Form):
    type = forms.ChoiceField(label="Sweep type", choices=PLANNERS.choices(), initial="grid",
                             help_text="Grid: every combination. Random: n drawn combinations. "
                                       "Guided: n configurations, planned batch by batch from the scores.")
    n = forms.IntegerField(label="Configurations (n)", required=False, min_value=1, max_value=MAX_N,
                           help_text="Random and guided sweeps.")
    batch = forms.IntegerField(label="Batch size", required=False, min_value=1, max_value=256,
                               help_text="Guided sweeps: configurations planned per round (default 4).")
    seed = forms.IntegerField(label="Seed", required=False, min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT)
    repeats = forms.IntegerField(label="Repeats", required=False, min_value=1, max_value=100,
                                 help_text="Blank: the experiment's.")
    sample_ids = forms.CharField(label="Sample items", required=False,
                                 help_text="Ids separated by commas; blank: every item.")
    budget_tokens = forms.IntegerField(label="Token budget", required=False, min_value=0, max_value=MAX_BIGINT,
                                       help_text="Blank: the experiment's.")
    budget_usd = forms.DecimalField(label="Cost budget (USD)", required=False, min_value=Decimal(0),
                                    max_digits=12, decimal_places=4, help_text="Blank: the experiment's.")

    def clean_sample_ids(self) -> list[str] | None:
        ids = [part.strip() for part in self.cleaned_data["sample_ids"].split(",") if part.strip()]
        return ids or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("type")
        if kind and PLANNERS.get(kind).needs_n and not data.get("n"):
            self.add_error("n", f"A {kind} sweep needs n, the number of configurations.")
        return data

    def plan_options(self) -> dict[str, Any]:
        """The options sweep_dry_run and sweep_start share."""
        data = self.cleaned_data
        return {"kind": data["type"], "repeats": data["repeats"], "n": data["n"], "seed": data["seed"],
                "sample_ids": data["sample_ids"]}


class RedirectForm(forms.Form):
    parameter_space = forms.CharField(
        label="Remaining parameter space (JSON)", widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text='A list of axes, e.g. [{"path": "stages.0.params.temperature", "values": [0.2, 0.5]}].')
    type = forms.ChoiceField(label="Plan the remainder as", required=False,
                             choices=[("", "The sweep's own type"), *[(k, k.title()) for k in redirect_kinds()]])
    n = forms.IntegerField(label="Configurations (n)", required=False, min_value=1, max_value=MAX_N,
                           help_text="Random plans only.")
    seed = forms.IntegerField(label="Seed", required=False, min_value=-MAX_BIGINT - 1, max_value=MAX_BIGINT)

    def clean_parameter_space(self) -> list:
        try:
            space = json.loads(self.cleaned_data["parameter_space"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        if not isinstance(space, list) or not all(isinstance(axis, dict) for axis in space):
            raise forms.ValidationError("Expected a list of axes, each an object.")
        return space


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Event type", required=False,
                             choices=[("", "Every event"), *[(kind.value, kind.description) for kind in Kind]])

"""The deployment, key, prompt version, A/B test and promote forms: types only; apps.deployments.services
check names, ownership, weights and states, and their field errors land next to these fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.urls import reverse_lazy

from apps.endpoints.selectors import endpoint_list
from apps.projects.selectors import project_list

MODELS_LIST = "deployment-models-list"


class JsonObjectField(forms.CharField):
    """A JSON object typed into a textarea ↔ a dict (the service checks its keys and values)."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"})

    def prepare_value(self, value: Any) -> Any:
        return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value

    def clean(self, value: Any) -> dict:
        text = (super().clean(value) or "").strip()
        if not text:
            return {}
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError('Expected a JSON object, e.g. {"temperature": 0.2}.')
        return parsed


class DeploymentForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    endpoint = forms.ModelChoiceField(
        queryset=None, empty_label=None, help_text="The LLM endpoint the gateway forwards requests to.",
        widget=forms.Select(attrs={"hx-get": reverse_lazy("web:deployment_models"), "hx-trigger": "change",
                                   "hx-target": "#deployment-models", "hx-swap": "outerHTML"}))
    model = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"list": MODELS_LIST, "autocomplete": "off"}),
                            help_text="A version may name its own model; otherwise this one is used.")
    params = JsonObjectField(required=False, label="Parameters",
                             help_text='Inference parameters as a JSON object, e.g. {"temperature": 0.2}.')
    project = forms.ModelChoiceField(queryset=None, required=False, empty_label="No project",
                                     help_text="Its events then reach that project's webhooks.")
    auto_track = forms.BooleanField(required=False, label="Track new prompts automatically",
                                    help_text="A gateway request whose system prompt matches no version creates "
                                              "and activates a new version.")
    max_versions = forms.IntegerField(min_value=1, max_value=1000, initial=50, label="Versions kept",
                                      help_text="The oldest inactive versions above this many are pruned; the "
                                                "active one never is.")

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].queryset = endpoint_list(user=user).order_by("label")
        self.fields["project"].queryset = project_list(user=user).order_by("name")

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in ("name", "description", "endpoint", "model", "params", "project",
                                              "auto_track", "max_versions")}


def deployment_initial(deployment) -> dict[str, Any]:
    return {"name": deployment.name, "description": deployment.description, "endpoint": deployment.endpoint_id,
            "model": deployment.model, "params": deployment.params, "project": deployment.project_id,
            "auto_track": deployment.auto_track, "max_versions": deployment.max_versions}


class KeyForm(forms.Form):
    prefix = "key"  # beside the settings form on the same page
    name = forms.CharField(max_length=100, label="Key name", initial="default",
                           help_text="Say where it is used, e.g. “support bot, production”.")


class VersionForm(forms.Form):
    system_prompt = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 6}))
    user_template = forms.CharField(required=False, strip=False, label="User message template",
                                    widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="Optional; {{ input }} is the caller's last user message.")
    description = forms.CharField(required=False, max_length=500)
    activate = forms.BooleanField(required=False, label="Activate it now",
                                  help_text="The gateway applies it from the next request (outside an A/B test).")


class AbTestForm(forms.Form):
    """Name, control and a weight per version: the versions given a weight are the test's variants."""

    name = forms.CharField(max_length=200)
    control = forms.TypedChoiceField(coerce=str, label="Control",
                                     help_text="The version the others are compared with (usually the active one).")
    alpha = forms.FloatField(initial=0.05, min_value=0.001, max_value=0.5, label="Significance level (alpha)")
    min_samples = forms.IntegerField(initial=100, min_value=1, max_value=10_000_000,
                                     label="Minimum requests per variant")
    require_helpful = forms.BooleanField(required=False, label="Count a request as a success only when marked helpful")
    max_latency_increase_pct = forms.FloatField(required=False, min_value=0, initial=20,
                                                label="Guardrail: latency may rise by at most (%)")
    max_cost_increase_pct = forms.FloatField(required=False, min_value=0, initial=20,
                                             label="Guardrail: cost may rise by at most (%)")
    auto_complete = forms.BooleanField(required=False, label="Complete automatically at significance",
                                       help_text="Once every variant has the minimum requests.")

    def __init__(self, *args: Any, versions, active=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = list(versions)
        self.fields["control"].choices = [(str(v.pk), f"v{v.number}") for v in self.versions]
        if active is not None:
            self.fields["control"].initial = str(active.pk)
        for version in self.versions:
            self.fields[self.weight_field(version)] = forms.IntegerField(
                required=False, min_value=0, max_value=1000, label=f"Weight of v{version.number}",
                initial=50 if active is not None and version.pk == active.pk else None)

    @staticmethod
    def weight_field(version) -> str:
        return f"weight_{version.pk}"

    def weight_rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(version, self[self.weight_field(version)]) for version in self.versions]

    def other_fields(self) -> list[forms.BoundField]:
        weights = {self.weight_field(version) for version in self.versions}
        return [field for field in self if field.name not in weights and field.name not in ("name", "control")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        weighted = [v for v in self.versions if data.get(self.weight_field(v))]
        control = data.get("control")
        if len(weighted) < 2 and self.versions:
            self.add_error(self.weight_field(self.versions[0]), "Give a weight to at least two versions.")
        elif control and control not in {str(v.pk) for v in weighted}:
            self.add_error("control", "The control needs a weight too.")
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        weighted = [v for v in self.versions if data.get(self.weight_field(v))]
        weighted.sort(key=lambda v: str(v.pk) != data["control"])  # the control first: position 0
        guardrails = {key: data[key] for key in ("max_latency_increase_pct", "max_cost_increase_pct")
                      if data.get(key) is not None}
        return {
            "name": data["name"],
            "variants": [{"name": f"v{v.number}{' (control)' if position == 0 else ''}", "version": v,
                          "weight": data[self.weight_field(v)]} for position, v in enumerate(weighted)],
            "success_criteria": {"require_non_empty": True, "require_no_error": True,
                                 "require_helpful": data["require_helpful"]},
            "alpha": data["alpha"], "min_samples": data["min_samples"], "auto_complete": data["auto_complete"],
            "guardrails": guardrails,
        }


class PromoteForm(forms.Form):
    deployment = forms.ModelChoiceField(queryset=None, empty_label=None)
    stage = forms.TypedChoiceField(coerce=int, label="Stage", help_text="The stage whose prompt becomes the version.")
    description = forms.CharField(required=False, max_length=500)
    activate = forms.BooleanField(required=False, label="Activate the new version now")
    start_ab_test = forms.BooleanField(required=False, label="Or start an A/B test against the active version")
    ab_test_name = forms.CharField(required=False, max_length=200, label="A/B test name")
    control_weight = forms.IntegerField(min_value=1, max_value=1000, initial=50, label="Weight of the active version")
    new_weight = forms.IntegerField(min_value=1, max_value=1000, initial=50, label="Weight of the new version")

    def __init__(self, *args: Any, deployments, stages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deployment"].queryset = deployments
        self.fields["stage"].choices = [(index, f"{index}: {name}") for index, name in enumerate(stages)]
        if len(stages) <= 1:
            self.fields["stage"].widget = forms.HiddenInput()
            self.fields["stage"].initial = 0

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"deployment": data["deployment"], "stage": data["stage"], "description": data["description"],
                "activate": data["activate"], "start_ab_test": data["start_ab_test"],
                "ab_test_name": data["ab_test_name"], "split": (data["control_weight"], data["new_weight"])}

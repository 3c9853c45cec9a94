"""The endpoint form: types and bounds only; apps.endpoints.services checks URLs, prices and labels."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.endpoints import services
from apps.endpoints.models import Endpoint

PRICES_HELP = "One model per line: its name, then USD per 1M input and per 1M output tokens, e.g. gpt-4o-mini 0.15 0.6"


class ModelPricesField(forms.CharField):
    """`model input output` lines ↔ the service's `{model: {"input": n, "output": n}}`."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return "\n".join(f"{model} {p['input']:g} {p['output']:g}" for model, p in value.items())
        return value

    def clean(self, value: Any) -> dict[str, dict[str, float]]:
        text = super().clean(value)
        prices = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            # rsplit: the two prices are the last words, so a model name may hold spaces.
            parts = line.replace(",", " ").rsplit(maxsplit=2)
            try:
                model, input_price, output_price = parts[0].strip(), float(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                raise forms.ValidationError(
                    f"Line {number}: expected a model name and two prices, e.g. gpt-4o-mini 0.15 0.6"
                ) from None
            prices[model] = {"input": input_price, "output": output_price}
        return prices


class EndpointForm(forms.Form):
    label = forms.CharField(max_length=services.MAX_LABEL)
    kind = forms.ChoiceField(choices=Endpoint.Kind.choices, initial=Endpoint.Kind.OPENAI,
                             help_text="OpenAI-compatible covers OpenAI, vLLM, Ollama, OpenWebUI and llama.cpp.")
    base_url = forms.CharField(max_length=services.MAX_URL, label="Base URL",
                               widget=forms.URLInput(attrs={"placeholder": "https://api.openai.com/v1"}))
    api_key = forms.CharField(
        required=False, max_length=services.MAX_KEY, label="API key", strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave blank for servers that need no key.",
    )
    max_concurrency = forms.IntegerField(min_value=1, max_value=services.MAX_CONCURRENCY, initial=4,
                                         label="Concurrent calls")
    connect_timeout_s = forms.FloatField(max_value=services.MAX_TIMEOUT_S, initial=5.0,
                                         label="Connect timeout (s)")
    read_timeout_s = forms.FloatField(max_value=services.MAX_TIMEOUT_S, initial=120.0,
                                      label="Read timeout (s)")
    model_prices = ModelPricesField(required=False, label="Model prices", help_text=PRICES_HELP)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


class EndpointEditForm(EndpointForm):
    """Editing: a blank key keeps the stored one; `clear_api_key` removes it."""

    clear_api_key = forms.BooleanField(required=False, label="Remove the stored API key")

    def __init__(self, *args: Any, endpoint: Endpoint, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["api_key"].label = "Replace API key"
        self.fields["api_key"].help_text = "Leave blank to keep the stored key."
        if not endpoint.has_api_key:
            del self.fields["clear_api_key"]
            self.fields["api_key"].label = "API key"

    def service_fields(self) -> dict[str, Any]:
        """The fields for endpoint_update: the key only when replaced ("" when cleared)."""
        fields = dict(self.cleaned_data)
        clear = fields.pop("clear_api_key", False)
        if not fields["api_key"]:
            # A new key replaces the old one even when "remove" is ticked too.
            if clear:
                fields["api_key"] = ""
            else:
                del fields["api_key"]
        return fields


def endpoint_initial(endpoint: Endpoint) -> dict[str, Any]:
    return {field: getattr(endpoint, field) for field in (
        "label", "kind", "base_url", "max_concurrency", "connect_timeout_s", "read_timeout_s",
        "model_prices", "is_active",
    )}

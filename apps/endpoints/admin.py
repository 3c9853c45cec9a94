from __future__ import annotations

import math

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.core.admin_forms import UUIDSearchMixin, reject_control_characters, secret_input, secret_status
from apps.endpoints import services
from apps.endpoints.models import Endpoint, url_origin
from apps.endpoints.usage import experiments_using


def _is_price(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


class EndpointAdminForm(forms.ModelForm):
    new_api_key = secret_input(
        label="New API key",
        help_text="Leave blank to keep the stored key. It is stored encrypted and never shown again.",
    )
    clear_api_key = forms.BooleanField(label="Clear key", required=False)

    # Checked by the service, as for the API (Django's URLField refuses hosts our clients accept).
    base_url = forms.CharField(max_length=services.MAX_URL)

    class Meta:
        model = Endpoint
        fields = [
            "owner", "label", "kind", "base_url", "is_active", "max_concurrency", "connect_timeout_s",
            "read_timeout_s", "model_prices",
        ]

    def clean_base_url(self) -> str:
        try:
            return services.clean_base_url(self.cleaned_data["base_url"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["base_url"]) from None

    def clean_new_api_key(self) -> str:
        return reject_control_characters(self.cleaned_data["new_api_key"])

    def clean_max_concurrency(self) -> int:
        if self.cleaned_data["max_concurrency"] < 1:
            raise ValidationError("At least 1.")
        return self.cleaned_data["max_concurrency"]

    def clean_model_prices(self) -> dict:
        prices = self.cleaned_data["model_prices"] or {}
        if not isinstance(prices, dict):
            raise ValidationError('Expected {"model": {"input": 0.15, "output": 0.6}}.')
        for model, price in prices.items():
            if not isinstance(price, dict) or set(price) - {"input", "output"}:
                raise ValidationError(f'"{model}": expected {{"input": <USD per 1M>, "output": <USD per 1M>}}.')
            for side, value in price.items():
                if not _is_price(value):
                    raise ValidationError(f'"{model}".{side}: must be a number of USD, 0 or more.')
        return prices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_api_key") and cleaned.get("clear_api_key"):
            self.add_error("clear_api_key", "Either enter a new key or clear the key, not both.")
        return cleaned


@admin.register(Endpoint)
class EndpointAdmin(UUIDSearchMixin, admin.ModelAdmin):
    form = EndpointAdminForm
    list_display = ["label", "owner", "kind", "base_url", "api_key", "max_concurrency", "is_active", "updated_at"]
    list_filter = ["kind", "is_active", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner"]
    search_fields = ["label", "base_url", "owner__username"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["api_key", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["owner", "label", "kind", "base_url", "is_active"]}),
        (
            "API key",
            {
                "fields": ["api_key", "new_api_key", "clear_api_key"],
                "description": "The key is bound to the base URL's origin: changing scheme, host or port "
                "without entering a new key clears it.",
            },
        ),
        ("Limits and prices", {"fields": ["max_concurrency", "connect_timeout_s", "read_timeout_s", "model_prices"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_deleted_objects(self, objs, request):
        # Experiments naming an endpoint keep it: listed as "protected", the admin refuses the delete.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for endpoint in objs:
            protected += [f'Experiment "{experiment.name}" uses endpoint "{endpoint.label}"'
                          for experiment in experiments_using(endpoint=endpoint)]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj: Endpoint) -> None:
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    @admin.display(description="API key")
    def api_key(self, obj: Endpoint) -> str:
        return secret_status(is_set=obj.has_api_key, last4=obj.api_key_last4)

    def save_model(self, request, obj: Endpoint, form: EndpointAdminForm, change: bool) -> None:
        raw, clear = form.cleaned_data["new_api_key"], form.cleaned_data["clear_api_key"]
        moved = change and url_origin(form.initial["base_url"]) != obj.origin
        if raw:
            obj.set_api_key(raw)
        elif clear or (moved and obj.has_api_key):
            if not clear:
                self.message_user(
                    request,
                    "The base URL now points at a different server, so the stored API key was cleared. "
                    "Enter the key for the new server.",
                    messages.WARNING,
                )
            obj.set_api_key("")
        super().save_model(request, obj, form, change)

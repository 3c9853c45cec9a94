from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.endpoints import services
from apps.endpoints.models import Endpoint
from apps.experiments.endpoint_usage import endpoint_delete, experiments_using
from apps.instance.admin.base import OwnerSetOnAddMixin, UUIDSearchMixin, secret_status
from apps.instance.admin.forms import ServiceAdmin, ServiceForm, secret_input

_SETTINGS = ["label", "kind", "base_url", "is_active", "max_concurrency", "connect_timeout_s", "read_timeout_s",
             "model_prices"]


class EndpointAdminForm(ServiceForm):
    new_api_key = secret_input(
        label="New API key",
        help_text="Leave blank to keep the stored key. It is stored encrypted and never shown again.",
    )
    clear_api_key = forms.BooleanField(label="Clear key", required=False)
    # Types only: the service checks ranges and URLs, as for the API (Django's URLField refuses hosts our
    # clients accept).
    base_url = forms.CharField()
    max_concurrency = forms.IntegerField()
    connect_timeout_s = forms.FloatField()
    read_timeout_s = forms.FloatField()
    service_fields = {"api_key": "new_api_key"}
    key_cleared = False

    class Meta:
        model = Endpoint
        fields = ["owner", *_SETTINGS]

    def service_save(self) -> Endpoint:
        data = self.cleaned_data
        fields = {name: data[name] for name in _SETTINGS}
        key, clear = data["new_api_key"], data["clear_api_key"]
        if key and clear:
            raise ValidationError({"clear_api_key": ["Either enter a new key or clear the key, not both."]})
        if self.instance._state.adding:
            return services.endpoint_create(owner=data["owner"], api_key=key, **fields)
        if key or clear:
            fields["api_key"] = key
        endpoint, cleared = services.endpoint_update(endpoint=self.instance, **fields)
        self.key_cleared = cleared and not clear
        return endpoint


@admin.register(Endpoint)
class EndpointAdmin(OwnerSetOnAddMixin, UUIDSearchMixin, ServiceAdmin):
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
        endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            endpoint_delete(endpoint=endpoint)

    @admin.display(description="API key")
    def api_key(self, obj: Endpoint) -> str:
        return secret_status(is_set=obj.has_api_key, last4=obj.api_key_last4)

    def save_model(self, request, obj: Endpoint, form: EndpointAdminForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.key_cleared:
            self.message_user(
                request,
                "The base URL now points at a different server, so the stored API key was cleared. "
                "Enter the key for the new server.",
                messages.WARNING,
            )

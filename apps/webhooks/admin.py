from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.core.admin_forms import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    admin_link,
    changelist_link,
    reject_control_characters,
    secret_input,
    secret_status,
)
from apps.core.crypto import SecretDecryptionError
from apps.endpoints.models import url_origin
from apps.webhooks.models import EVENT_TYPES, WebhookConfig, WebhookDelivery

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
# Set by the HTTP client or by the signer; a configured header must not override them.
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-type"}
MAX_HEADERS = 20


def parse_header_lines(text: str) -> dict[str, str]:
    """`Name: value` per line into a dict; ValidationError naming the first bad line."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.match(name):
            raise ValidationError(f'Line {number}: expected "Name: value" with a valid header name.')
        if name.lower() in _RESERVED_HEADERS or name.lower().startswith("x-promptlooper"):
            raise ValidationError(f"Line {number}: {name} is set by PromptLooper itself.")
        try:
            headers[name] = reject_control_characters(value)
        except ValidationError as exc:
            raise ValidationError(f"Line {number}: the value {exc.messages[0].lower()}") from exc
    if len(headers) > MAX_HEADERS:
        raise ValidationError(f"At most {MAX_HEADERS} headers.")
    return headers


def header_names(webhook: WebhookConfig) -> str:
    try:
        names = sorted(webhook.get_headers())
    except SecretDecryptionError:
        return "cannot be decrypted (check ENCRYPTION_KEYS)"
    return ", ".join(names) or "none"


class WebhookAdminForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    new_secret = secret_input(
        label="New signing secret",
        help_text="Leave blank to keep the stored secret. Stored encrypted and never shown again.",
    )
    clear_secret = forms.BooleanField(label="Clear secret", required=False)
    new_headers = secret_input(
        label="Replace headers",
        multiline=True,
        help_text="One “Name: value” per line; replaces all stored headers. Leave blank to keep them.",
    )
    clear_headers = forms.BooleanField(label="Clear headers", required=False)

    # Checked by the service, as for the API (Django's URLField refuses hosts our clients accept).
    url = forms.CharField(max_length=1000)

    class Meta:
        model = WebhookConfig
        fields = ["owner", "project", "url", "event_types", "is_active"]

    def clean_url(self) -> str:
        # The same rules as the API, including the public-addresses-only egress check.
        from apps.webhooks.services import clean_url

        try:
            return clean_url(self.cleaned_data["url"])
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict.get("url", exc.messages)) from None

    def clean_new_secret(self) -> str:
        return reject_control_characters(self.cleaned_data["new_secret"])

    def clean_new_headers(self) -> dict[str, str]:
        return parse_header_lines(self.cleaned_data["new_headers"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_secret") and cleaned.get("clear_secret"):
            self.add_error("clear_secret", "Either enter a new secret or clear it, not both.")
        if cleaned.get("new_headers") and cleaned.get("clear_headers"):
            self.add_error("clear_headers", "Either enter new headers or clear them, not both.")
        project, owner = cleaned.get("project"), cleaned.get("owner")
        if project is not None and owner is not None and project.owner_id != owner.pk:
            self.add_error("project", "Choose one of the owner's projects.")
        return cleaned


class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fields = ["event", "status", "attempts", "status_code", "next_retry_at", "created_at"]
    readonly_fields = fields
    related = ["event"]
    ordering = ["-created_at"]


@admin.register(WebhookConfig)
class WebhookConfigAdmin(UUIDSearchMixin, admin.ModelAdmin):
    form = WebhookAdminForm
    list_display = ["url", "owner", "project", "events", "is_active", "secret", "headers", "created_at"]
    list_filter = ["is_active", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "project"]
    search_fields = ["url", "owner__username", "project__name"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner", "project"]
    readonly_fields = ["secret", "headers", "deliveries", "created_at"]
    fieldsets = [
        (None, {"fields": ["owner", "project", "url", "event_types", "is_active", "deliveries"]}),
        (
            "Signing secret and headers",
            {
                "fields": ["secret", "new_secret", "clear_secret", "headers", "new_headers", "clear_headers"],
                "description": "Both are bound to the URL's origin: changing scheme, host or port "
                "without entering new ones clears them.",
            },
        ),
        ("Dates", {"fields": ["created_at"]}),
    ]
    inlines = [DeliveryInline]

    @admin.display(description="events")
    def events(self, obj: WebhookConfig) -> str:
        return ", ".join(obj.event_types)

    @admin.display(description="signing secret")
    def secret(self, obj: WebhookConfig) -> str:
        return secret_status(is_set=obj.has_secret)

    @admin.display(description="header names")
    def headers(self, obj: WebhookConfig) -> str:
        return header_names(obj)

    @admin.display(description="deliveries")
    def deliveries(self, obj: WebhookConfig) -> str:
        return changelist_link(WebhookDelivery, "All deliveries", webhook__id__exact=obj.pk)

    def save_model(self, request, obj: WebhookConfig, form: WebhookAdminForm, change: bool) -> None:
        data = form.cleaned_data
        moved = change and url_origin(form.initial["url"]) != url_origin(obj.url)
        had_secrets = bool(obj.secret_encrypted or obj.headers_encrypted)
        if data["new_secret"]:
            obj.set_secret(data["new_secret"])
        elif data["clear_secret"] or moved:
            obj.set_secret("")
        if data["new_headers"]:
            obj.set_headers(data["new_headers"])
        elif data["clear_headers"] or moved:
            obj.set_headers({})
        if moved and had_secrets and not (data["new_secret"] and data["new_headers"]):
            self.message_user(
                request,
                "The URL now points at a different server, so the secrets not re-entered were cleared.",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "webhook_link", "event", "status", "attempts", "status_code", "next_retry_at",
                    "created_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["webhook", "event"]
    search_fields = ["webhook__url", "event__kind", "response_excerpt", "last_error"]
    date_hierarchy = "created_at"

    @admin.display(description="webhook", ordering="webhook__url")
    def webhook_link(self, obj: WebhookDelivery) -> str:
        return admin_link(obj.webhook)

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.core.crypto import SecretDecryptionError
from apps.core.errors import ServiceError
from apps.instance.admin.base import (
    OwnerSetOnAddMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    admin_link,
    changelist_link,
    secret_status,
)
from apps.instance.admin.forms import ServiceAdmin, ServiceForm, secret_input
from apps.webhooks import outbox, services
from apps.webhooks.models import EVENT_TYPES, WebhookAttempt, WebhookConfig, WebhookDelivery


def parse_header_lines(text: str) -> dict[str, str]:
    """`Name: value` per line into a dict; the service checks names and values as it does for the API."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValidationError(f'Line {number}: expected "Name: value".')
        headers[name.strip()] = value.strip()
    return headers


def header_names(webhook: WebhookConfig) -> str:
    try:
        names = sorted(webhook.get_headers())
    except SecretDecryptionError:
        return "cannot be decrypted (check ENCRYPTION_KEYS)"
    return ", ".join(names) or "none"


def _refuse_both(data: dict, new: str, clear: str, message: str) -> None:
    if data[new] and data[clear]:
        raise ValidationError({clear: [message]})


class WebhookAdminForm(ServiceForm):
    event_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    new_secret = secret_input(
        label="New signing secret",
        help_text="Leave blank to keep the stored secret (a new webhook gets a generated one, shown once). "
        "Stored encrypted and never shown again.",
    )
    clear_secret = forms.BooleanField(label="Clear secret", required=False)
    new_headers = secret_input(
        label="Replace headers",
        multiline=True,
        help_text="One “Name: value” per line; replaces all stored headers. Leave blank to keep them.",
    )
    clear_headers = forms.BooleanField(label="Clear headers", required=False)
    # Types only: the service checks the URL, including the public-addresses-only egress check.
    url = forms.CharField()
    service_fields = {"secret": "new_secret", "headers": "new_headers"}
    generated_secret: str | None = None
    secrets_cleared = False

    class Meta:
        model = WebhookConfig
        fields = ["owner", "project", "url", "event_types", "is_active"]

    def clean_new_headers(self) -> dict[str, str]:
        return parse_header_lines(self.cleaned_data["new_headers"])

    def service_save(self) -> WebhookConfig:
        data = self.cleaned_data
        project = data.get("project")
        common = {"url": data["url"], "event_types": data["event_types"], "is_active": data["is_active"],
                  "project_id": project.pk if project else None}
        if self.instance._state.adding:
            webhook, self.generated_secret = services.webhook_create(
                owner=data["owner"], headers=data["new_headers"], secret=data["new_secret"], **common
            )
            return webhook
        _refuse_both(data, "new_secret", "clear_secret", "Either enter a new secret or clear it, not both.")
        _refuse_both(data, "new_headers", "clear_headers", "Either enter new headers or clear them, not both.")
        webhook, self.secrets_cleared = services.webhook_update(
            webhook=self.instance,
            secret=data["new_secret"] or ("" if data["clear_secret"] else None),
            headers=data["new_headers"] or ({} if data["clear_headers"] else None),
            **common,
        )
        return webhook


def _each(modeladmin, request, objects, action, done: str) -> None:
    """Apply a service to each selected row; refusals (a disabled webhook, say) become messages."""
    count = 0
    for obj in objects:
        try:
            action(obj)
            count += 1
        except ServiceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}. Results appear in the delivery log.", messages.SUCCESS)


class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fields = ["event_type", "status", "attempts", "status_code", "latency_ms", "next_retry_at", "created_at"]
    readonly_fields = fields
    related = ["event"]
    ordering = ["-created_at"]


@admin.register(WebhookConfig)
class WebhookConfigAdmin(OwnerSetOnAddMixin, UUIDSearchMixin, ServiceAdmin):
    form = WebhookAdminForm
    list_display = ["url", "owner", "project", "events", "is_active", "secret", "headers", "created_at"]
    list_filter = ["is_active", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "project"]
    search_fields = ["url", "owner__username", "project__name"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["owner", "project"]
    readonly_fields = ["secret", "headers", "deliveries", "consecutive_failures", "disabled_reason", "created_at"]
    actions = ["send_test_event"]
    fieldsets = [
        (None, {"fields": ["owner", "project", "url", "event_types", "is_active", "deliveries",
                           "consecutive_failures", "disabled_reason"]}),
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

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset) -> None:
        _each(self, request, queryset, lambda webhook: outbox.delivery_test_create(webhook=webhook),
              "Test events queued")

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
        super().save_model(request, obj, form, change)
        if form.generated_secret:
            # Shown once, as the API's create response does; only its ciphertext is kept.
            self.message_user(request, f"Signing secret (shown only now): {form.generated_secret}",
                              messages.WARNING)
        if form.secrets_cleared:
            self.message_user(
                request,
                "The URL now points at a different server, so the secrets not re-entered were cleared.",
                messages.WARNING,
            )


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "status_code", "latency_ms", "error", "response_excerpt", "next_retry_at"]
    readonly_fields = fields
    show_change_link = False
    max_shown = 50


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "webhook_link", "event_type", "status", "attempts", "status_code", "latency_ms",
                    "next_retry_at", "created_at"]
    list_filter = ["status", "event_type", "created_at"]
    list_select_related = ["webhook", "event"]
    search_fields = ["webhook__url", "event_type", "message_id", "response_excerpt", "last_error"]
    date_hierarchy = "created_at"
    exclude = ["claimed_until"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.display(description="webhook", ordering="webhook__url")
    def webhook_link(self, obj: WebhookDelivery) -> str:
        return admin_link(obj.webhook)

    @admin.action(description="Redeliver now (same body and webhook-id)")
    def redeliver(self, request, queryset) -> None:
        _each(self, request, queryset.select_related("webhook"),
              lambda delivery: outbox.delivery_redeliver(delivery=delivery), "Deliveries queued again")

"""Deployments in the settings panel: edited through their services; versions, tests and traffic read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from apps.core.errors import ServiceError
from apps.deployments.models import AbTest, AbVariant, Deployment, DeploymentKey, GatewayRequest, PromptVersion
from apps.deployments.services.deployments import deployment_create, deployment_update
from apps.deployments.services.versions import version_activate
from apps.instance.admin.base import (
    OwnerSetOnAddMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    UUIDSearchMixin,
    admin_link,
    changelist_link,
    pretty_json,
)
from apps.instance.admin.forms import ServiceAdmin, ServiceForm
from apps.instance.admin.keys import KEY_FIELDS, RevocableKeyMixin

_SETTINGS = ["project", "name", "description", "endpoint", "model", "params", "auto_track", "max_versions"]


class DeploymentAdminForm(ServiceForm):
    # Types only: the service checks the endpoint and project belong to the owner, names and ranges.
    max_versions = forms.IntegerField()
    params = forms.JSONField(required=False, initial=dict)

    class Meta:
        model = Deployment
        fields = ["owner", *_SETTINGS]

    def service_save(self) -> Deployment:
        data = self.cleaned_data
        fields = {name: data[name] for name in _SETTINGS}
        if self.instance._state.adding:
            return deployment_create(owner=data["owner"], **fields)
        return deployment_update(deployment=self.instance, **fields)


class KeyInline(ReadOnlyInline):
    model = DeploymentKey
    fields = ["name", *KEY_FIELDS]
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = PromptVersion
    fields = ["number", "is_active", "description", "model", "created_by", "created_at"]
    readonly_fields = fields
    ordering = ["-number"]


@admin.register(Deployment)
class DeploymentAdmin(OwnerSetOnAddMixin, UUIDSearchMixin, ServiceAdmin):
    form = DeploymentAdminForm
    list_display = ["name", "owner", "project", "endpoint", "model", "auto_track", "revision", "updated_at"]
    list_filter = ["auto_track", ("owner", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["owner", "project", "endpoint"]
    search_fields = ["name", "model", "owner__username", "project__name"]
    autocomplete_fields = ["owner", "project", "endpoint"]
    readonly_fields = ["revision", "traffic", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["owner", "project", "name", "description"]}),
        ("Forwarding", {"fields": ["endpoint", "model", "params"]}),
        ("Versions", {"fields": ["auto_track", "max_versions", "revision"]}),
        ("Traffic and dates", {"fields": ["traffic", "created_at", "updated_at"]}),
    ]
    inlines = [KeyInline, VersionInline]

    @admin.display(description="gateway requests")
    def traffic(self, obj: Deployment) -> str:
        return changelist_link(GatewayRequest, "All requests", deployment__id__exact=obj.pk)


@admin.register(DeploymentKey)
class DeploymentKeyAdmin(RevocableKeyMixin, admin.ModelAdmin):
    list_display = ["name", "deployment", *KEY_FIELDS, "is_active"]
    list_select_related = ["deployment"]
    search_fields = ["name", "prefix", "deployment__name"]
    fields = ["name", "deployment", *KEY_FIELDS]
    readonly_fields = ["deployment", *KEY_FIELDS]


@admin.register(PromptVersion)
class PromptVersionAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = ["__str__", "deployment", "number", "is_active", "model", "description", "created_by",
                    "created_at"]
    list_filter = ["is_active", ("deployment", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["deployment"]
    search_fields = ["deployment__name", "description", "system_prompt", "content_hash", "created_by"]
    date_hierarchy = "created_at"
    leading_fields = ("deployment", "number", "is_active")
    actions = ["activate"]

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        version = queryset.select_related("deployment").get()
        try:
            version_activate(version=version, actor=request.user.get_username(), reason="admin")
        except ServiceError as exc:
            self.message_user(request, f"{version}: {exc}", messages.ERROR)
            return
        self.message_user(request, f"{version} is now active.", messages.SUCCESS)


class VariantInline(ReadOnlyInline):
    model = AbVariant
    fields = ["position", "name", "version", "weight", "description"]
    readonly_fields = fields
    related = ["version"]
    show_change_link = False


@admin.register(AbTest)
class AbTestAdmin(UUIDSearchMixin, ReadOnlyAdmin):
    list_display = ["name", "deployment", "status", "min_samples", "auto_complete", "started_at", "completed_at"]
    list_filter = ["status", "auto_complete", ("deployment", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["deployment"]
    search_fields = ["name", "deployment__name"]
    date_hierarchy = "created_at"
    exclude = ["decision"]
    readonly_fields = ["decision_shown", "requests"]
    leading_fields = ("deployment", "name", "status")
    inlines = [VariantInline]

    @admin.display(description="decision")
    def decision_shown(self, obj: AbTest) -> str:
        return pretty_json(obj.decision)

    @admin.display(description="gateway requests")
    def requests(self, obj: AbTest) -> str:
        return changelist_link(GatewayRequest, "All requests", ab_test__id__exact=obj.pk)


@admin.register(GatewayRequest)
class GatewayRequestAdmin(ReadOnlyAdmin):
    list_display = ["request_id", "deployment_link", "version", "variant", "model", "status_code", "success",
                    "latency_ms", "tokens_in", "tokens_out", "cost_usd", "helpful", "created_at"]
    list_filter = ["success", "status_code", "streamed", "helpful", "session_assigned",
                   ("deployment", admin.RelatedOnlyFieldListFilter), "model", "created_at"]
    list_select_related = ["deployment", "version__deployment", "variant"]
    search_fields = ["request_id", "session_id", "model", "error"]
    date_hierarchy = "created_at"
    # The request log grows with traffic: no exact count of every filtered page.
    show_full_result_count = False
    raw_id_fields = ["deployment", "version", "ab_test", "variant", "endpoint"]

    @admin.display(description="deployment", ordering="deployment__name")
    def deployment_link(self, obj: GatewayRequest) -> str:
        return admin_link(obj.deployment)

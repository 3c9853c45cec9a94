"""The activity timeline is written by the services that emit events; the admin browses it."""

from __future__ import annotations

from django.contrib import admin

from apps.activity.models import Event
from apps.instance.admin.base import ReadOnlyAdmin, pretty_json


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["kind", "owner", "project", "experiment", "sweep", "run", "created_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["owner", "project", "experiment", "sweep", "run"]
    search_fields = ["kind", "owner__username", "project__name", "experiment__name"]
    date_hierarchy = "created_at"
    readonly_fields = ["payload_pretty"]
    exclude = ["payload"]

    @admin.display(description="payload")
    def payload_pretty(self, obj: Event) -> str:
        return pretty_json(obj.payload)

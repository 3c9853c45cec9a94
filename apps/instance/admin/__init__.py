"""The Django admin, a surface over every app: one module per app, each registering that app's models."""

from django.contrib import admin

from apps.instance.admin import (  # noqa: F401  (imported to register their ModelAdmins)
    accounts,
    activity,
    core,
    deployments,
    endpoints,
    experiments,
    exports,
    projects,
    runs,
    webhooks,
)

admin.site.site_header = "PromptLooper settings"
admin.site.site_title = "PromptLooper settings"
admin.site.index_title = "Settings and operations"
admin.site.site_url = "/"

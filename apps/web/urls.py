from django.urls import path

from apps.web.views import dashboard, endpoints, projects, settings, webhooks

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/<uuid:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<uuid:project_id>/notes/", projects.project_notes, name="project_notes"),
    path("projects/<uuid:project_id>/delete/", projects.project_delete, name="project_delete"),
    path("endpoints/", endpoints.endpoint_list, name="endpoints"),
    path("endpoints/new/", endpoints.endpoint_create, name="endpoint_create"),
    path("endpoints/<uuid:endpoint_id>/", endpoints.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<uuid:endpoint_id>/test/", endpoints.endpoint_test, name="endpoint_test"),
    path("endpoints/<uuid:endpoint_id>/delete/", endpoints.endpoint_delete, name="endpoint_delete"),
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="webhook_create"),
    path("webhooks/<uuid:webhook_id>/delete/", webhooks.webhook_delete, name="webhook_delete"),
    path("settings/", settings.system_settings, name="settings"),
]

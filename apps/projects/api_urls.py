from django.urls import path

from apps.projects import api

urlpatterns = [
    path("projects", api.ProjectListApi.as_view(), name="projects"),
    path("projects/<uuid:id>", api.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<uuid:id>/configs", api.SavedConfigListApi.as_view(), name="project-configs"),
    path(
        "projects/<uuid:id>/configs/<uuid:config_id>",
        api.SavedConfigDetailApi.as_view(),
        name="project-config-detail",
    ),
    path("projects/<uuid:id>/exports", api.ExportListApi.as_view(), name="project-exports"),
]

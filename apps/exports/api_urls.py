from django.urls import path

from apps.exports import api

urlpatterns = [
    path("experiments/<uuid:experiment_id>/export/best", api.ExportBestApi.as_view(), name="export-best"),
    path("experiments/<uuid:experiment_id>/export/env", api.ExportEnvApi.as_view(), name="export-env"),
    path("experiments/<uuid:experiment_id>/export/yaml", api.ExportYamlApi.as_view(), name="export-yaml"),
    path("experiments/<uuid:experiment_id>/export/report", api.ExportReportApi.as_view(), name="export-report"),
    path("runs/compare", api.RunCompareApi.as_view(), name="run-compare"),
]

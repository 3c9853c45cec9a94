"""The REST API under /api/v1/: one list, so every path and url name is in one place."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.api import accounts, endpoints, experiments, exports, instance, projects, runs, scoring, webhooks

urlpatterns = [
    path("auth/setup", accounts.SetupApi.as_view(), name="auth-setup"),
    path("auth/login", accounts.LoginApi.as_view(), name="auth-login"),
    path("auth/me", accounts.MeApi.as_view(), name="auth-me"),
    path("auth/keys", accounts.ApiKeyListApi.as_view(), name="auth-keys"),
    path("auth/keys/<uuid:key_id>", accounts.ApiKeyDetailApi.as_view(), name="auth-key-detail"),
    path("admin/settings", instance.AdminSettingsApi.as_view(), name="admin-settings"),
    path("admin/stats", instance.AdminStatsApi.as_view(), name="admin-stats"),
    path("projects", projects.ProjectListApi.as_view(), name="projects"),
    path("projects/<uuid:id>", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path("projects/<uuid:id>/configs", projects.SavedConfigListApi.as_view(), name="project-configs"),
    path(
        "projects/<uuid:id>/configs/<uuid:config_id>",
        projects.SavedConfigDetailApi.as_view(),
        name="project-config-detail",
    ),
    path("projects/<uuid:id>/exports", projects.ExportListApi.as_view(), name="project-exports"),
    path("experiments", experiments.ExperimentListApi.as_view(), name="experiment-list"),
    path("experiments/<uuid:experiment_id>", experiments.ExperimentDetailApi.as_view(), name="experiment-detail"),
    path("endpoints", endpoints.EndpointListApi.as_view(), name="endpoints"),
    path("endpoints/<uuid:id>", endpoints.EndpointDetailApi.as_view(), name="endpoint-detail"),
    path("endpoints/<uuid:id>/test", endpoints.EndpointTestApi.as_view(), name="endpoint-test"),
    path("webhooks", webhooks.WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<uuid:id>", webhooks.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("experiments/<uuid:experiment_id>/sweep", runs.SweepStartApi.as_view(), name="experiment-sweep"),
    path("experiments/<uuid:experiment_id>/pause", runs.SteeringApi.as_view(action="pause"), name="experiment-pause"),
    path(
        "experiments/<uuid:experiment_id>/resume", runs.SteeringApi.as_view(action="resume"), name="experiment-resume"
    ),
    path("experiments/<uuid:experiment_id>/stop", runs.SteeringApi.as_view(action="stop"), name="experiment-stop"),
    path("experiments/<uuid:experiment_id>/redirect", runs.RedirectApi.as_view(), name="experiment-redirect"),
    path("experiments/<uuid:experiment_id>/runs", runs.ExperimentRunsApi.as_view(), name="experiment-runs"),
    path("experiments/<uuid:experiment_id>/sweeps", runs.ExperimentSweepsApi.as_view(), name="experiment-sweeps"),
    path("experiments/<uuid:experiment_id>/cache", runs.ExperimentCacheApi.as_view(), name="experiment-cache"),
    path("sweeps/<uuid:sweep_id>", runs.SweepDetailApi.as_view(), name="sweep-detail"),
    path("experiments/<uuid:experiment_id>/leaderboard", scoring.LeaderboardApi.as_view(), name="leaderboard"),
    path("experiments/<uuid:experiment_id>/rescore", scoring.RescoreApi.as_view(), name="experiment-rescore"),
    path("runs/<uuid:run_id>/score", scoring.RunScoreApi.as_view(), name="run-score"),
    path("runs", runs.RunCreateApi.as_view(), name="run-create"),
    path("runs/<uuid:run_id>", runs.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/approve", runs.RunApprovalApi.as_view(approval="approved"), name="run-approve"),
    path("runs/<uuid:run_id>/reject", runs.RunApprovalApi.as_view(approval="rejected"), name="run-reject"),
    path("runs/<uuid:run_id>/fork", runs.RunForkApi.as_view(), name="run-fork"),
    path("runs/<uuid:run_id>/cache", runs.RunCacheApi.as_view(), name="run-cache"),
    path("experiments/<uuid:experiment_id>/export/best", exports.ExportBestApi.as_view(), name="export-best"),
    path("experiments/<uuid:experiment_id>/export/env", exports.ExportEnvApi.as_view(), name="export-env"),
    path("experiments/<uuid:experiment_id>/export/yaml", exports.ExportYamlApi.as_view(), name="export-yaml"),
    path("experiments/<uuid:experiment_id>/export/report", exports.ExportReportApi.as_view(), name="export-report"),
    path("runs/compare", exports.RunCompareApi.as_view(), name="run-compare"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

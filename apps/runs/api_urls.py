from django.urls import path

from apps.runs import api, api_scoring

urlpatterns = [
    path("experiments/<uuid:experiment_id>/sweep", api.SweepStartApi.as_view(), name="experiment-sweep"),
    path("experiments/<uuid:experiment_id>/pause", api.SteeringApi.as_view(action="pause"), name="experiment-pause"),
    path("experiments/<uuid:experiment_id>/resume", api.SteeringApi.as_view(action="resume"), name="experiment-resume"),
    path("experiments/<uuid:experiment_id>/stop", api.SteeringApi.as_view(action="stop"), name="experiment-stop"),
    path("experiments/<uuid:experiment_id>/redirect", api.RedirectApi.as_view(), name="experiment-redirect"),
    path("experiments/<uuid:experiment_id>/runs", api.ExperimentRunsApi.as_view(), name="experiment-runs"),
    path("experiments/<uuid:experiment_id>/sweeps", api.ExperimentSweepsApi.as_view(), name="experiment-sweeps"),
    path("experiments/<uuid:experiment_id>/cache", api.ExperimentCacheApi.as_view(), name="experiment-cache"),
    path("sweeps/<uuid:sweep_id>", api.SweepDetailApi.as_view(), name="sweep-detail"),
    path("experiments/<uuid:experiment_id>/leaderboard", api_scoring.LeaderboardApi.as_view(), name="leaderboard"),
    path("experiments/<uuid:experiment_id>/rescore", api_scoring.RescoreApi.as_view(), name="experiment-rescore"),
    path("runs/<uuid:run_id>/score", api_scoring.RunScoreApi.as_view(), name="run-score"),
    path("runs", api.RunCreateApi.as_view(), name="run-create"),
    path("runs/<uuid:run_id>", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/approve", api.RunApprovalApi.as_view(approval="approved"), name="run-approve"),
    path("runs/<uuid:run_id>/reject", api.RunApprovalApi.as_view(approval="rejected"), name="run-reject"),
    path("runs/<uuid:run_id>/fork", api.RunForkApi.as_view(), name="run-fork"),
    path("runs/<uuid:run_id>/cache", api.RunCacheApi.as_view(), name="run-cache"),
]

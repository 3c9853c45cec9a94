from django.urls import path

from apps.experiments import api

urlpatterns = [
    path("experiments", api.ExperimentListApi.as_view(), name="experiment-list"),
    path("experiments/<uuid:experiment_id>", api.ExperimentDetailApi.as_view(), name="experiment-detail"),
]

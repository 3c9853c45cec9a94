"""WebSocket routes; the live-view consumers register here."""

from django.urls import path

from apps.live.consumers import DashboardConsumer, ExperimentConsumer

websocket_urlpatterns: list = [
    path("ws/dashboard", DashboardConsumer.as_asgi()),
    path("ws/experiments/<uuid:experiment_id>", ExperimentConsumer.as_asgi()),
]

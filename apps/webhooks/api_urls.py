from django.urls import path

from apps.webhooks import api

urlpatterns = [
    path("webhooks", api.WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<uuid:id>", api.WebhookDetailApi.as_view(), name="webhook-detail"),
]

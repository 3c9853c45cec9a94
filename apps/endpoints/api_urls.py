from django.urls import path

from apps.endpoints import api

urlpatterns = [
    path("endpoints", api.EndpointListApi.as_view(), name="endpoints"),
    path("endpoints/<uuid:id>", api.EndpointDetailApi.as_view(), name="endpoint-detail"),
    path("endpoints/<uuid:id>/test", api.EndpointTestApi.as_view(), name="endpoint-test"),
]

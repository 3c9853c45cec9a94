from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core.views import health

api_v1 = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.core.api_urls")),
    path("", include("apps.projects.api_urls")),
    path("", include("apps.experiments.api_urls")),
    path("", include("apps.endpoints.api_urls")),
    path("", include("apps.webhooks.api_urls")),
    path("", include("apps.runs.api_urls")),
    path("", include("apps.exports.api_urls")),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler404 = "apps.core.errors_views.not_found"

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("", include("apps.accounts.urls")),
    path("", include("apps.core.urls")),
]

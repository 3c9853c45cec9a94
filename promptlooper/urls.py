from django.contrib import admin
from django.urls import include, path

from apps.core.views import health

handler404 = "apps.core.errors_views.not_found"

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", include("apps.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("apps.accounts.urls")),
    path("", include("apps.instance.urls")),
]

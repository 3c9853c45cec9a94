from django.contrib import admin
from django.urls import include, path

from apps.accounts import urls as accounts_urls
from apps.core.views import health
from apps.instance.views import setup

# First-boot setup is an instance workflow (apps.accounts cannot import it) named accounts:setup like login.
accounts_patterns = ([path("setup/", setup, name="setup"), *accounts_urls.urlpatterns], accounts_urls.app_name)

handler404 = "apps.core.errors_views.not_found"

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", include("apps.api.urls")),
    path("admin/", admin.site.urls),
    path("", include(accounts_patterns)),
    path("", include("apps.web.urls")),
]

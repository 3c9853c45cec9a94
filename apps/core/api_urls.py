from django.urls import path

from apps.core import api

urlpatterns = [
    path("admin/settings", api.AdminSettingsApi.as_view(), name="admin-settings"),
    path("admin/stats", api.AdminStatsApi.as_view(), name="admin-stats"),
]

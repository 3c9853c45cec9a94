from django.urls import path

from apps.accounts import views

app_name = "accounts"
urlpatterns = [
    path("setup/", views.setup, name="setup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("keys/", views.api_keys, name="api_keys"),
    path("keys/<uuid:key_id>/revoke", views.api_key_revoke, name="api_key_revoke"),
]

from django.urls import path

from apps.accounts import views

# The setup page (accounts:setup) is added in promptlooper/urls.py: its view seeds the demo, an instance job.
app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("keys/", views.api_keys, name="api_keys"),
    path("keys/<uuid:key_id>/revoke", views.api_key_revoke, name="api_key_revoke"),
]

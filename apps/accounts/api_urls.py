from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("auth/setup", api.SetupApi.as_view(), name="auth-setup"),
    path("auth/login", api.LoginApi.as_view(), name="auth-login"),
    path("auth/me", api.MeApi.as_view(), name="auth-me"),
    path("auth/keys", api.ApiKeyListApi.as_view(), name="auth-keys"),
    path("auth/keys/<uuid:key_id>", api.ApiKeyDetailApi.as_view(), name="auth-key-detail"),
]

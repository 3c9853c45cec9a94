from django.urls import path

from apps.instance import views

# The namespace stays "core" so `core:home` (LOGIN_REDIRECT_URL, templates, redirects) keeps resolving.
app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
]

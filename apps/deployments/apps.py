from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "apps.deployments"
    label = "deployments"
    verbose_name = "Deployments and A/B tests"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "apps.activity"
    label = "activity"
    verbose_name = "Activity timeline"
    default_auto_field = "django.db.models.BigAutoField"

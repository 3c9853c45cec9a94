from django.apps import AppConfig


class FakeLLMConfig(AppConfig):
    """Fake OpenAI-compatible LLM server (``manage.py fakellm``)."""

    name = "apps.fakellm"
    label = "fakellm"
    verbose_name = "Fake LLM server"
    default_auto_field = "django.db.models.BigAutoField"

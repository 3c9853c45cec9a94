from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.activity.services import on_events_recorded
        from apps.webhooks.outbox import deliveries_record

        # Inside the transaction that writes the events: the outbox rows commit or roll back with them.
        on_events_recorded(deliveries_record)

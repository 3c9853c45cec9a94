from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "apps.live"
    label = "live"
    verbose_name = "Live updates"

    def ready(self) -> None:
        from apps.activity.services import on_events_recorded
        from apps.live.publisher import events_recorded

        on_events_recorded(events_recorded)

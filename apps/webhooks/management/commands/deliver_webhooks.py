"""Run when a worker starts: ensure the delivery sweeper's schedule and send whatever is already due."""

from django.core.management.base import BaseCommand

from apps.webhooks.delivery import deliveries_sweep
from apps.webhooks.schedule import sweep_schedule_ensure


class Command(BaseCommand):
    help = "Ensure the webhook sweeper schedule exists and queue every due webhook delivery."

    def handle(self, *args, **options) -> None:
        sweep_schedule_ensure()
        self.stdout.write(f"Queued {deliveries_sweep()} due webhook deliveries.")

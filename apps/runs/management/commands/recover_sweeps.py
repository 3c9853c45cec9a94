"""Run when a worker starts: re-queue sweeps interrupted by a crash or restart."""

from django.core.management.base import BaseCommand

from apps.runs.services.reconcile import reconcile_schedule_ensure, sweeps_reconcile


class Command(BaseCommand):
    help = "Ensure the reconcile schedule exists and re-queue every active sweep's driver."

    def handle(self, *args, **options) -> None:
        reconcile_schedule_ensure()
        count = sweeps_reconcile(force=True)
        self.stdout.write(f"Recovered {count} sweep(s).")

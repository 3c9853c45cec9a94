"""Prepare a fresh instance: system settings, and the one-time first-boot setup link."""

from django.core.management.base import BaseCommand

from apps.accounts.services import setup_token_issue
from apps.core.models import SystemSettings


class Command(BaseCommand):
    help = "Create the system settings row and, until an admin exists, print the one-time setup URL."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8400", help="Public base URL to print.")

    def handle(self, *args, url: str, **options) -> None:
        SystemSettings.load()
        token = setup_token_issue()
        if token is None:
            self.stdout.write(f"PromptLooper is ready at {url}/")
            return
        banner = "=" * 72
        self.stdout.write(
            f"{banner}\nFirst boot: create the admin account at\n\n    {url}/setup/?token={token}\n\n"
            f"The link works once; restarting prints a new one.\n{banner}"
        )

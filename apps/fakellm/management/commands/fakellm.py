"""``python manage.py fakellm``: serve the fake LLM server in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.fakellm import server


class Command(BaseCommand):
    help = "Serve the fake OpenAI-compatible LLM server (see apps.fakellm.server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8401)
        parser.add_argument("--latency-ms", type=float, default=0.0)

    def handle(self, *args: Any, **options: Any) -> None:
        server.serve(options["host"], options["port"], options["latency_ms"], self.announce)

    def announce(self, base_url: str) -> None:
        self.stdout.write(base_url)
        # Scripts wait for this line on a pipe, so it must not sit in a buffer.
        self.stdout.flush()

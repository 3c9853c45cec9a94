"""`manage.py mcp`: the MCP server over stdio for a local agent, as the owner of the key in PROMPTLOOPER_API_KEY."""

from __future__ import annotations

import os

import anyio
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import Unauthenticated
from apps.mcp.auth import StaticPrincipal, user_for_token
from apps.mcp.server import build_server


class Command(BaseCommand):
    help = "Serve the MCP tools over stdio; the API key comes from PROMPTLOOPER_API_KEY."

    def handle(self, *args, **options) -> None:
        key = os.environ.get("PROMPTLOOPER_API_KEY", "").strip()
        if not key:
            raise CommandError("Set PROMPTLOOPER_API_KEY to an API key (create one on the API keys page).")
        try:
            user_for_token(key)  # fail at start, not at the first call; each call checks the key again
        except Unauthenticated as exc:
            raise CommandError(str(exc)) from None
        # stdout is the protocol channel: nothing else may be written to it.
        anyio.run(build_server(StaticPrincipal(key)).run_stdio_async)

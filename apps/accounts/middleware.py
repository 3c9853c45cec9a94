"""Until the first admin exists, serve only the setup screen (and health, static, setup API)."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect

from apps.accounts.services import setup_is_complete

_OPEN_PREFIXES = ("/setup", "/api/v1/auth/setup", "/health", "/static/")


class SetupRequiredMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.complete = False

    def __call__(self, request):
        if not self.complete:
            # Once an admin exists it always will, so the check stops after the first success.
            self.complete = setup_is_complete()
        if self.complete or request.path.startswith(_OPEN_PREFIXES):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": "First-boot setup is not complete. Open /setup/."}, status=503)
        return redirect("accounts:setup")

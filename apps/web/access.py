"""Who may open a page: the HTML side of apps.accounts.permissions (guests read, only users write)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from apps.accounts.permissions import guest_access_enabled

View = Callable[..., HttpResponse]


def guest_readable(view: View) -> View:
    """Signed-in users always; an anonymous guest only while guest access is on (selectors limit what it sees)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated or guest_access_enabled():
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapper

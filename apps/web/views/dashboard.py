"""The dashboard at /: active sweeps, the activity feed, recent new bests and totals."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.activity.kinds import Kind
from apps.activity.selectors import dashboard_feed, event_list
from apps.runs.summaries import active_sweeps, user_totals
from apps.web.access import guest_readable
from apps.web.rendering import paginate, paginate_feed, render_page

BESTS = 5
PARTIALS = ("dashboard-feed", "dashboard-sweeps", "dashboard-totals", "dashboard-bests")


@guest_readable
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "sweeps": paginate(request, active_sweeps(user=user), param="sweeps_page", per_page=10),
        "feed": paginate_feed(request, event_list(user=user).select_related("experiment"), param="feed_page"),
        "bests": dashboard_feed(user=user, kinds=[Kind.NEW_BEST], limit=BESTS),
        "totals": user_totals(user=user),
    }
    return render_page(request, "web/dashboard.html", context, partials=PARTIALS)

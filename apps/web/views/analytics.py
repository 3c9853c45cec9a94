"""HTML: model performance across sweeps and gateway traffic (the REST API's /analytics/models); never a guest's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from apps.analytics.selectors import model_performance, model_performance_kpis
from apps.analytics.windows import window_parse
from apps.web.analytics_charts import cost_chart, latency_chart
from apps.web.forms_analytics import SOURCES, WINDOWS, AnalyticsFilterForm
from apps.web.rendering import render_page


@login_required
@require_GET
def analytics(request: HttpRequest) -> HttpResponse:
    form = AnalyticsFilterForm(request.GET or None)
    window_name, source = form.choice()
    window = window_parse(window=window_name)
    rows = model_performance(user=request.user, since=window.since, until=window.until, source=source)
    context = {"form": form, "window_label": dict(WINDOWS)[window_name], "source": source,
               "source_label": dict(SOURCES)[source], "rows": rows,
               "kpis": model_performance_kpis(rows=rows), "charts": [latency_chart(rows), cost_chart(rows)]}
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render_page(request, "web/analytics.html", context, partials=["analytics-report"], status=status)

"""Model performance REST: per model and endpoint, over sweeps and gateway traffic. Owner only (never guests)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.selectors import model_performance, model_performance_kpis
from apps.analytics.windows import window_parse
from apps.api.serializers.analytics import ModelPerformanceOutput, ModelPerformanceQuery


class ModelPerformanceApi(APIView):
    @extend_schema(parameters=[ModelPerformanceQuery], responses=ModelPerformanceOutput)
    def get(self, request):
        """Calls, latency (avg/min/max), cost per call and error rate per model and endpoint over a window."""
        query = ModelPerformanceQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        opts = query.validated_data
        window = window_parse(window=opts.get("window"), since=opts.get("since"), until=opts.get("until"))
        rows = model_performance(user=request.user, since=window.since, until=window.until, source=opts["source"])
        body = {"window": window, "source": opts["source"], "kpis": model_performance_kpis(rows=rows), "models": rows}
        return Response(ModelPerformanceOutput(body).data)

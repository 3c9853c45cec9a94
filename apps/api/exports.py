"""REST for exports (file downloads) and run comparison."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers import exports as serializers
from apps.experiments.selectors import experiment_get
from apps.exports.compare import run_compare
from apps.exports.services import CONTENT_TYPES, export_render


class ExportApi(APIView):
    fmt = ""
    guest_readable = True

    def perform_content_negotiation(self, request, force=False):
        # A download is not negotiated: success is the file, errors are JSON whatever Accept says.
        return super().perform_content_negotiation(request, force=True)

    def export(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        query = serializers.ExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = export_render(user=request.user, experiment=experiment, fmt=self.fmt,
                               run_id=query.validated_data.get("run"), baseline_id=query.validated_data.get("baseline"))
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response


def _schema(fmt: str):
    media_type = CONTENT_TYPES[fmt][0].split(";")[0]
    # The YAML file is a mapping, like the JSON one; clients that parse it get an object.
    body = OpenApiTypes.OBJECT if fmt in ("json", "yaml") else OpenApiTypes.STR
    return extend_schema(
        operation_id=f"experiments_export_{fmt}", parameters=[serializers.ExportQuery],
        responses={(200, media_type): OpenApiResponse(body),
                   404: OpenApiResponse(description="No finished run to export.")},
    )


class ExportBestApi(ExportApi):
    fmt = "json"

    @_schema("json")
    def get(self, request, experiment_id):
        return self.export(request, experiment_id)


class ExportEnvApi(ExportApi):
    fmt = "env"

    @_schema("env")
    def get(self, request, experiment_id):
        return self.export(request, experiment_id)


class ExportYamlApi(ExportApi):
    fmt = "yaml"

    @_schema("yaml")
    def get(self, request, experiment_id):
        return self.export(request, experiment_id)


class ExportReportApi(ExportApi):
    fmt = "report"

    @_schema("report")
    def get(self, request, experiment_id):
        return self.export(request, experiment_id)


class RunCompareApi(APIView):
    guest_readable = True

    @extend_schema(parameters=[serializers.CompareQuery], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        query = serializers.CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        opts = query.validated_data
        return Response(run_compare(user=request.user, run_a_id=opts["a"], run_b_id=opts["b"],
                                    offset=opts["offset"], limit=opts["limit"]))

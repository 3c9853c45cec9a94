"""Validate an experiment config without saving it: what `promptlooper validate` and `apply` ask the server."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers.experiments import ExperimentUpdateInput
from apps.experiments import services


class ExperimentValidateApi(APIView):
    @extend_schema(
        request=ExperimentUpdateInput,
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="`{valid: true, experiment: {...}}` with "
                                        "the fields as they would be stored (defaults filled in).")},
        description="Checks a config exactly as creating it would, for your endpoints, and saves nothing.",
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            return Response({"non_field_errors": ["Expected a JSON object."]}, status=status.HTTP_400_BAD_REQUEST)
        data = {key: value for key, value in request.data.items() if key != "project"}
        fields = services.experiment_validate(user=request.user, data=data)
        return Response({"valid": True, "experiment": fields})

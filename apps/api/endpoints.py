"""LLM endpoints REST API. Owner only (never guests); the API key is write-only."""

from __future__ import annotations

from dataclasses import asdict

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers.endpoints import (
    EndpointInput,
    EndpointInUseOutput,
    EndpointOutput,
    EndpointUpdateOutput,
    ProbeOutput,
)
from apps.endpoints import selectors, services
from apps.endpoints.models import Endpoint
from apps.endpoints.probe import endpoint_probe
from apps.experiments.endpoint_usage import endpoint_delete


class EndpointFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="label", lookup_expr="icontains")

    class Meta:
        model = Endpoint
        fields = ["search", "kind", "is_active"]


class EndpointListApi(GenericAPIView):
    serializer_class = EndpointOutput
    filterset_class = EndpointFilter
    ordering_fields = ["label", "kind", "created_at", "updated_at"]

    def get_queryset(self):
        return selectors.endpoint_list(user=self.request.user)

    @extend_schema(responses=EndpointOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(EndpointOutput(page, many=True).data)

    @extend_schema(request=EndpointInput, responses={201: EndpointOutput})
    def post(self, request):
        data = EndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(owner=request.user, **data.validated_data)
        return Response(EndpointOutput(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    @extend_schema(responses=EndpointOutput)
    def get(self, request, id):
        return Response(EndpointOutput(selectors.endpoint_get(user=request.user, endpoint_id=id)).data)

    @extend_schema(request=EndpointInput, responses=EndpointUpdateOutput)
    def put(self, request, id):
        return self._update(request, id, partial=False)

    @extend_schema(request=EndpointInput, responses=EndpointUpdateOutput)
    def patch(self, request, id):
        return self._update(request, id, partial=True)

    @extend_schema(responses={204: None, 409: EndpointInUseOutput})
    def delete(self, request, id):
        endpoint_delete(endpoint=selectors.endpoint_get(user=request.user, endpoint_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, id, *, partial: bool) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=id)
        data = EndpointInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        endpoint, cleared = services.endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(EndpointUpdateOutput(endpoint, context={"api_key_cleared": cleared}).data)


class EndpointTestApi(APIView):
    @extend_schema(request=None, responses=ProbeOutput)
    def post(self, request, id):
        # A failed probe is still a successful test: 200 with ok=false and the explanation.
        result = endpoint_probe(endpoint=selectors.endpoint_get(user=request.user, endpoint_id=id))
        return Response(ProbeOutput(asdict(result)).data)

"""Projects REST API: CRUD, saved best configs and export history. Guests may read."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers.projects import (
    ExportOutput,
    ProjectDetailOutput,
    ProjectInput,
    ProjectOutput,
    SavedConfigInput,
    SavedConfigOutput,
)
from apps.exports.models import ExportRecord, SavedConfig
from apps.exports.saved_configs import saved_config_create, saved_config_delete, saved_config_list
from apps.exports.selectors import export_list
from apps.projects import selectors, services
from apps.projects.models import Project
from apps.runs.summaries import project_experiment_summaries


class ProjectFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["search"]


def _detail(request, project_id) -> Response:
    project = selectors.project_get(user=request.user, project_id=project_id)
    experiments = project_experiment_summaries(project=project)
    return Response(ProjectDetailOutput(project, context={"experiments": experiments}).data)


def _viewer(request) -> dict:
    """Serializer context naming the reader: endpoint ids are shown to their owner only."""
    return {"viewer": request.user}


def _with_project(saved: SavedConfig, project: Project) -> SavedConfig:
    saved.project = project
    return saved


class ProjectListApi(GenericAPIView):
    guest_readable = True
    serializer_class = ProjectOutput
    filterset_class = ProjectFilter
    ordering_fields = ["name", "created_at", "updated_at", "experiment_count"]

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)

    @extend_schema(responses=ProjectOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProjectOutput(page, many=True).data)

    @extend_schema(request=ProjectInput, responses={201: ProjectDetailOutput})
    def post(self, request):
        data = ProjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(owner=request.user, **data.validated_data)
        response = _detail(request, project.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class ProjectDetailApi(APIView):
    guest_readable = True

    @extend_schema(responses=ProjectDetailOutput)
    def get(self, request, id):
        return _detail(request, id)

    @extend_schema(request=ProjectInput, responses=ProjectDetailOutput)
    def put(self, request, id):
        return self._update(request, id, partial=False)

    @extend_schema(request=ProjectInput, responses=ProjectDetailOutput)
    def patch(self, request, id):
        return self._update(request, id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, id):
        services.project_delete(project=selectors.project_get_owned(user=request.user, project_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, id, *, partial: bool) -> Response:
        project = selectors.project_get_owned(user=request.user, project_id=id)
        data = ProjectInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.project_update(project=project, **data.validated_data)
        return _detail(request, id)


class SavedConfigListApi(GenericAPIView):
    guest_readable = True
    serializer_class = SavedConfigOutput
    queryset = SavedConfig.objects.none()  # for schema introspection; requests use the selector
    ordering_fields = ["name", "created_at", "score"]

    @extend_schema(responses=SavedConfigOutput(many=True))
    def get(self, request, id):
        project = selectors.project_get(user=request.user, project_id=id)
        page = self.paginate_queryset(self.filter_queryset(saved_config_list(project=project)))
        # The configs share one project: its owner decides for all of them (no query per row).
        page = [_with_project(saved, project) for saved in page]
        return self.get_paginated_response(SavedConfigOutput(page, many=True, context=_viewer(request)).data)

    @extend_schema(request=SavedConfigInput, responses={201: SavedConfigOutput})
    def post(self, request, id):
        project = selectors.project_get_owned(user=request.user, project_id=id)
        data = SavedConfigInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        saved = saved_config_create(
            project=project,
            name=fields["name"],
            config=fields["config"],
            run_id=fields["run"],
            score=fields["score"],
            notes=fields["notes"],
        )
        return Response(SavedConfigOutput(saved, context=_viewer(request)).data, status=status.HTTP_201_CREATED)


class SavedConfigDetailApi(APIView):
    guest_readable = True

    @extend_schema(responses=SavedConfigOutput)
    def get(self, request, id, config_id):
        project = selectors.project_get(user=request.user, project_id=id)
        saved = _with_project(get_object_or_404(SavedConfig, pk=config_id, project=project), project)
        return Response(SavedConfigOutput(saved, context=_viewer(request)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, id, config_id):
        project = selectors.project_get_owned(user=request.user, project_id=id)
        saved_config_delete(saved_config=get_object_or_404(SavedConfig, pk=config_id, project=project))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportListApi(GenericAPIView):
    guest_readable = True
    serializer_class = ExportOutput
    queryset = ExportRecord.objects.none()  # for schema introspection; requests use the selector
    ordering_fields = ["created_at", "format"]

    @extend_schema(responses=ExportOutput(many=True))
    def get(self, request, id):
        project = selectors.project_get(user=request.user, project_id=id)
        page = self.paginate_queryset(self.filter_queryset(export_list(project=project)))
        return self.get_paginated_response(ExportOutput(page, many=True).data)

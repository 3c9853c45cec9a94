"""Experiments over REST: list/create and read/update/delete. Config rules live in validation.py."""

from __future__ import annotations

import uuid

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from apps.api.serializers.experiments import (
    ExperimentCreateInput,
    ExperimentDetailOutput,
    ExperimentListOutput,
    ExperimentUpdateInput,
)
from apps.experiments import selectors, services
from apps.experiments.models import Experiment
from apps.runs import summaries


class ExperimentFilter(django_filters.FilterSet):
    project = django_filters.UUIDFilter(field_name="project_id")
    status = django_filters.ChoiceFilter(choices=Experiment.Status.choices)

    class Meta:
        model = Experiment
        fields = ["project", "status"]


def _body(request) -> dict | None:
    return request.data if isinstance(request.data, dict) else None


def _invalid_body() -> Response:
    return Response({"non_field_errors": ["Expected a JSON object."]}, status=status.HTTP_400_BAD_REQUEST)


def _detail(experiment: Experiment, *, viewer) -> dict:
    summary = summaries.experiment_run_summary(experiment=experiment)
    # Endpoint ids are shown to the owner only (a guest reads every user's experiments).
    return ExperimentDetailOutput(experiment, context={"run_summary": summary, "viewer": viewer}).data


class ExperimentListApi(GenericAPIView):
    guest_readable = True
    serializer_class = ExperimentListOutput
    filterset_class = ExperimentFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["-updated_at"]

    def get_queryset(self):
        # The list shows no config: sample data alone can be thousands of items per experiment.
        return summaries.experiment_summary_list(user=self.request.user).defer(
            "sample_data", "pipeline_stages", "scoring_config", "parameter_space"
        )

    @extend_schema(responses=ExperimentListOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ExperimentListOutput(page, many=True).data)

    @extend_schema(request=ExperimentCreateInput, responses={201: ExperimentDetailOutput})
    def post(self, request):
        data = _body(request)
        if data is None:
            return _invalid_body()
        try:
            project_id = uuid.UUID(str(data.get("project")))
        except ValueError:
            return Response({"project": ["A project id is required."]}, status=status.HTTP_400_BAD_REQUEST)
        project = selectors.user_project(user=request.user, project_id=project_id)
        if project is None:
            return Response({"project": ["Unknown project."]}, status=status.HTTP_400_BAD_REQUEST)
        experiment = services.experiment_create(user=request.user, project=project, data=data)
        experiment = summaries.experiment_summary_get(user=request.user, experiment_id=experiment.pk)
        return Response(_detail(experiment, viewer=request.user), status=status.HTTP_201_CREATED)


class ExperimentDetailApi(GenericAPIView):
    guest_readable = True
    serializer_class = ExperimentDetailOutput

    @extend_schema(responses=ExperimentDetailOutput)
    def get(self, request, experiment_id):
        experiment = summaries.experiment_summary_get(user=request.user, experiment_id=experiment_id)
        return Response(_detail(experiment, viewer=request.user))

    @extend_schema(request=ExperimentUpdateInput, responses=ExperimentDetailOutput)
    def put(self, request, experiment_id):
        return self._update(request, experiment_id, partial=False)

    @extend_schema(request=ExperimentUpdateInput, responses=ExperimentDetailOutput)
    def patch(self, request, experiment_id):
        return self._update(request, experiment_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, experiment_id):
        experiment = selectors.experiment_get(user=request.user, experiment_id=experiment_id)
        services.experiment_delete(experiment=experiment)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, experiment_id, *, partial: bool) -> Response:
        experiment = selectors.experiment_get(user=request.user, experiment_id=experiment_id)
        data = _body(request)
        if data is None:
            return _invalid_body()
        services.experiment_update(user=request.user, experiment=experiment, data=data, partial=partial)
        experiment = summaries.experiment_summary_get(user=request.user, experiment_id=experiment_id)
        return Response(_detail(experiment, viewer=request.user))

"""REST for sweeps, steering and runs. Views parse, call one service or selector, and shape."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers import runs as serializers
from apps.core.errors import InvalidInput
from apps.experiments.selectors import experiment_get
from apps.runs import selectors
from apps.runs.models import Run, Sweep
from apps.runs.services import runs as run_services
from apps.runs.services import sweeps
from apps.runs.services.dry_run import sweep_dry_run, sweep_space_resolve
from apps.runs.summaries import active_sweeps


def _viewer(request) -> dict:
    """Serializer context naming the reader: endpoint ids are shown to their owner only."""
    return {"viewer": request.user}


class _ViewerContext:
    def get_serializer_context(self):
        return {**super().get_serializer_context(), **_viewer(self.request)}


class SweepStartApi(APIView):
    @extend_schema(request=serializers.SweepInput,
                   responses={202: serializers.SweepStartedOutput, 200: serializers.DryRunOutput},
                   description="Starts a sweep (202), or with dry_run plans and estimates it without running (200).")
    def post(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        data = serializers.SweepInput(data=request.data)
        data.is_valid(raise_exception=True)
        opts = data.validated_data
        # Endpoints deleted since the experiment was saved: refused before planning and estimating.
        space = sweep_space_resolve(user=request.user, experiment=experiment, parameter_space=opts["parameter_space"])
        common = {"kind": opts["type"], "repeats": opts.get("repeats") or experiment.repeats, "n": opts.get("n"),
                  "seed": opts["seed"], "sample_ids": opts["sample_ids"]}
        if opts["dry_run"]:
            budgets = {"budget_tokens": opts["budget_tokens"], "budget_usd": opts["budget_usd"]}
            dry_run = sweep_dry_run(experiment=experiment, parameter_space=space, batch=opts.get("batch"),
                                    options=opts["options"], **budgets, **common)
            return Response(dry_run.as_dict())
        sweep, plan = sweeps.sweep_start(
            user=request.user, experiment=experiment, parameter_space=space,
            budget_tokens=opts["budget_tokens"], budget_usd=opts["budget_usd"], batch=opts.get("batch"),
            options=opts["options"], over_budget=opts["over_budget"], **common)
        body = {"sweep": serializers.SweepOutput(sweep, context=_viewer(request)).data, "note": plan.note}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SteeringApi(APIView):
    action = ""

    @extend_schema(request=None, responses=serializers.SweepOutput)
    def post(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        action = {"pause": sweeps.sweep_pause, "resume": sweeps.sweep_resume, "stop": sweeps.sweep_stop}[self.action]
        sweep = action(experiment=experiment)
        return Response(serializers.SweepOutput(sweep, context=_viewer(request)).data)


class RedirectApi(APIView):
    @extend_schema(request=serializers.RedirectInput, responses=serializers.RedirectOutput)
    def post(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        data = serializers.RedirectInput(data=request.data)
        data.is_valid(raise_exception=True)
        space = run_services.parameter_space_validate(
            user=request.user, experiment=experiment, parameter_space=data.validated_data["parameter_space"])
        sweep, removed, added = sweeps.sweep_redirect(
            experiment=experiment, parameter_space=space, kind=data.validated_data.get("type"),
            n=data.validated_data.get("n"), seed=data.validated_data.get("seed"))
        return Response({"sweep": serializers.SweepOutput(sweep, context=_viewer(request)).data,
                         "removed_runs": removed, "added_runs": added})


class RunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Run.Status.choices)
    approval = django_filters.ChoiceFilter(choices=[("approved", "approved"), ("rejected", "rejected")])
    sweep = django_filters.UUIDFilter(field_name="sweep_id")

    class Meta:
        model = Run
        fields = ["status", "approval", "sweep"]


class ExperimentRunsApi(_ViewerContext, ListAPIView):
    serializer_class = serializers.RunListOutput
    filterset_class = RunFilter
    ordering_fields = ["position", "weighted_score", "tokens_in", "tokens_out", "cost_estimate", "duration_ms",
                       "completed_at", "created_at"]
    ordering = ["position"]
    guest_readable = True
    queryset = Run.objects.none()  # for schema introspection; requests use the selector

    def get_queryset(self):
        experiment = experiment_get(user=self.request.user, experiment_id=self.kwargs["experiment_id"])
        return selectors.run_list(user=self.request.user, experiment_id=experiment.pk).select_related(
            "experiment__project")


class ExperimentSweepsApi(_ViewerContext, ListAPIView):
    serializer_class = serializers.SweepOutput
    guest_readable = True
    queryset = Sweep.objects.none()  # for schema introspection; requests use the selector
    ordering = ["-created_at"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        experiment = experiment_get(user=self.request.user, experiment_id=self.kwargs["experiment_id"])
        return selectors.sweep_list(user=self.request.user, experiment_id=experiment.pk).select_related(
            "experiment__project")


ACTIVE = (Sweep.Status.PENDING, Sweep.Status.RUNNING, Sweep.Status.PAUSED)


@extend_schema(parameters=[OpenApiParameter(
    "status", str, description="Comma-separated (or repeated): pending, running, paused. Default: all three.")])
class ActiveSweepsApi(_ViewerContext, ListAPIView):
    """Your sweeps that have not finished (queued, running or paused), newest first, across experiments."""

    serializer_class = serializers.ActiveSweepOutput
    guest_readable = True
    queryset = Sweep.objects.none()  # for schema introspection; requests use the selector

    def get_queryset(self):
        wanted = {part.strip() for value in self.request.query_params.getlist("status") for part in value.split(",")
                  if part.strip()}
        unknown = sorted(wanted - set(ACTIVE))
        if unknown:
            raise InvalidInput(errors={"status": [
                f"Not an unfinished sweep status: {', '.join(unknown)} (use {', '.join(ACTIVE)})."]})
        qs = active_sweeps(user=self.request.user)
        return qs.filter(status__in=wanted) if wanted else qs


class SweepDetailApi(APIView):
    guest_readable = True

    @extend_schema(responses=serializers.SweepOutput)
    def get(self, request, sweep_id):
        sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
        return Response(serializers.SweepOutput(sweep, context=_viewer(request)).data)


class RunCreateApi(APIView):
    @extend_schema(request=serializers.AdhocRunInput, responses={202: serializers.RunListOutput})
    def post(self, request):
        data = serializers.AdhocRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        opts = data.validated_data
        experiment = experiment_get(user=request.user, experiment_id=opts["experiment"])
        run = run_services.run_adhoc(user=request.user, experiment=experiment, point=opts["point"],
                                     pipeline_stages=opts["pipeline_stages"], items=opts["input"],
                                     repeats=opts.get("repeats"))
        return Response(serializers.RunListOutput(run, context=_viewer(request)).data,
                        status=status.HTTP_202_ACCEPTED)


class RunDetailApi(APIView):
    guest_readable = True

    @extend_schema(responses=serializers.RunDetailOutput)
    def get(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        return Response(serializers.RunDetailOutput(run, context=_viewer(request)).data)


class RunApprovalApi(APIView):
    approval = ""

    @extend_schema(request=None, responses=serializers.RunListOutput)
    def post(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        run = run_services.run_set_approval(run=run, approval=self.approval)
        return Response(serializers.RunListOutput(run, context=_viewer(request)).data)


class RunForkApi(APIView):
    @extend_schema(request=serializers.ForkInput, responses={201: serializers.ForkOutput})
    def post(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        data = serializers.ForkInput(data=request.data)
        data.is_valid(raise_exception=True)
        fork = run_services.experiment_fork(user=request.user, run=run, **data.validated_data)
        return Response({"id": str(fork.pk), "name": fork.name, "project": str(fork.project_id),
                         "pipeline_stages": fork.pipeline_stages, "parameter_space": fork.parameter_space},
                        status=status.HTTP_201_CREATED)


class RunCacheApi(APIView):
    @extend_schema(responses={200: serializers.CacheClearedOutput})
    def delete(self, request, run_id):
        run = selectors.run_get(user=request.user, run_id=run_id)
        return Response({"deleted_entries": run_services.cache_invalidate_run(run=run)})


class ExperimentCacheApi(APIView):
    @extend_schema(responses={200: serializers.CacheClearedOutput})
    def delete(self, request, experiment_id):
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        return Response({"deleted_entries": run_services.cache_invalidate_experiment(experiment=experiment)})

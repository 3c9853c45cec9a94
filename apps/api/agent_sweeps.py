"""REST for agent sweeps: a person lets an agent that asked for review (or to spend more) continue."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.serializers.runs import SweepOutput
from apps.runs import selectors
from apps.runs.services.agent_sweep import agent_sweep_approve


class ApproveContinueInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="",
                                 help_text="Shown to the agent with the approval.")


class AgentApproveContinueApi(APIView):
    @extend_schema(request=ApproveContinueInput, responses=SweepOutput,
                   description="Approve what a paused agent sweep asked for (human_needed) and resume it; "
                               "409 when it is not waiting for a person.")
    def post(self, request, sweep_id):
        sweep = selectors.sweep_get(user=request.user, sweep_id=sweep_id)
        data = ApproveContinueInput(data=request.data)
        data.is_valid(raise_exception=True)
        sweep = agent_sweep_approve(user=request.user, sweep=sweep, note=data.validated_data["note"])
        return Response(SweepOutput(sweep, context={"viewer": request.user}).data)

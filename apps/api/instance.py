"""Admin REST endpoints: system settings and stats."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsAdmin
from apps.api.serializers.instance import SystemSettingsSerializer, SystemStatsSerializer
from apps.core.models import SystemSettings
from apps.instance.services import system_settings_update
from apps.instance.stats import system_stats


class AdminSettingsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SystemSettingsSerializer)
    def get(self, request):
        system = SystemSettings.load()
        return Response(SystemSettingsSerializer(system).data)

    @extend_schema(request=SystemSettingsSerializer, responses=SystemSettingsSerializer)
    def put(self, request):
        data = SystemSettingsSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        system = system_settings_update(fields=data.validated_data)
        return Response(SystemSettingsSerializer(system).data)

    @extend_schema(request=SystemSettingsSerializer, responses=SystemSettingsSerializer)
    def patch(self, request):
        return self.put(request)


class AdminStatsApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=SystemStatsSerializer)
    def get(self, request):
        return Response(SystemStatsSerializer(system_stats()).data)

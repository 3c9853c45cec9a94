"""Auth endpoints: first-boot setup, login (bearer token), me, and API keys."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.models import ApiKey
from apps.accounts.tokens import token_issue
from apps.api.serializers.accounts import (
    ApiKeyCreatedOutput,
    ApiKeyInput,
    ApiKeyOutput,
    LoginInput,
    SessionOutput,
    SetupInput,
    UserOutput,
)
from apps.core.openapi import field_errors_response
from apps.instance.services import instance_setup


class SetupApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=SetupInput, responses={
        201: SessionOutput,
        403: field_errors_response("Setup is already complete, or the setup token is missing or wrong (`token`)."),
    })
    def post(self, request):
        data = SetupInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = instance_setup(**data.validated_data)
        token, ttl = token_issue(user_id=user.pk)
        body = {"user": UserOutput(user).data, "access_token": token, "token_type": "bearer", "expires_in": ttl}
        return Response(body, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginInput, responses={
        200: SessionOutput, 429: OpenApiResponse(description="Too many failed login attempts; try again later."),
    })
    def post(self, request):
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.login_check(request=request._request, **data.validated_data)
        if user is None:
            return Response({"detail": "Wrong username or password."}, status=status.HTTP_401_UNAUTHORIZED)
        token, ttl = token_issue(user_id=user.pk)
        return Response({"access_token": token, "token_type": "bearer", "expires_in": ttl,
                         "user": UserOutput(user).data})


class MeApi(APIView):
    @extend_schema(responses=UserOutput)
    def get(self, request):
        return Response(UserOutput(request.user).data)


class ApiKeyListApi(APIView):
    @extend_schema(responses=ApiKeyOutput(many=True))
    def get(self, request):
        keys = ApiKey.objects.filter(user=request.user)
        return Response(ApiKeyOutput(keys, many=True).data)

    @extend_schema(request=ApiKeyInput, responses={201: ApiKeyCreatedOutput})
    def post(self, request):
        data = ApiKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = services.api_key_create(user=request.user, name=data.validated_data["name"])
        # The raw key is returned exactly once; only its hash is stored.
        return Response({**ApiKeyOutput(key).data, "key": raw}, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, key_id):
        key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
        key.revoke()
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Deployments REST API: CRUD, gateway keys, promoting a run, and gateway feedback.

Owner only (never guests: deployments hold production prompts and keys); a raw key is returned once.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import BearerAuthentication
from apps.api.serializers import deployments as serializers
from apps.api.serializers.prompts import AbTestOutput, VersionOutput
from apps.deployments.models import Deployment, DeploymentKey, PromptVersion
from apps.deployments.selectors import deployments as selectors
from apps.deployments.services import deployments as services
from apps.deployments.services import keys, promote, requests
from apps.runs.selectors import run_get


def _deployment_response(request, deployment, *, code: int = status.HTTP_200_OK) -> Response:
    deployment.active_version = selectors.deployment_active_version(deployment=deployment)
    return Response(serializers.DeploymentOutput(deployment).data, status=code)


class DeploymentListApi(GenericAPIView):
    serializer_class = serializers.DeploymentOutput
    filterset_fields = ["project", "auto_track"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_queryset(self):
        active = Prefetch("versions", queryset=PromptVersion.objects.filter(is_active=True), to_attr="active_versions")
        return selectors.deployments_for(user=self.request.user).prefetch_related(active)

    @extend_schema(responses=serializers.DeploymentOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        for deployment in page:
            deployment.active_version = next(iter(deployment.active_versions), None)
        return self.get_paginated_response(serializers.DeploymentOutput(page, many=True).data)

    @extend_schema(request=serializers.DeploymentInput, responses={201: serializers.DeploymentOutput})
    def post(self, request):
        data = serializers.DeploymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = services.deployment_create(owner=request.user, **data.validated_data)
        return _deployment_response(request, deployment, code=status.HTTP_201_CREATED)


class DeploymentDetailApi(APIView):
    @extend_schema(responses=serializers.DeploymentOutput)
    def get(self, request, id):
        return _deployment_response(request, selectors.deployment_get(user=request.user, deployment_id=id))

    @extend_schema(request=serializers.DeploymentInput, responses=serializers.DeploymentOutput,
                   description="Change some settings (send only those); the gateway applies them on its next request.")
    def patch(self, request, id):
        deployment = selectors.deployment_get(user=request.user, deployment_id=id)
        data = serializers.DeploymentInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        deployment = services.deployment_update(deployment=deployment, **data.validated_data)
        return _deployment_response(request, deployment)

    @extend_schema(responses={204: None}, description="Deletes it with its keys, versions, A/B tests and request log.")
    def delete(self, request, id):
        services.deployment_delete(deployment=selectors.deployment_get(user=request.user, deployment_id=id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeploymentKeyListApi(GenericAPIView):
    queryset = DeploymentKey.objects.none()  # for the schema; get_queryset scopes it
    serializer_class = serializers.DeploymentKeyOutput

    def get_queryset(self):
        deployment = selectors.deployment_get(user=self.request.user, deployment_id=self.kwargs["id"])
        return selectors.deployment_keys_for(deployment=deployment)

    @extend_schema(responses=serializers.DeploymentKeyOutput(many=True))
    def get(self, request, id):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serializers.DeploymentKeyOutput(page, many=True).data)

    @extend_schema(request=serializers.DeploymentKeyInput, responses={201: serializers.DeploymentKeyCreatedOutput},
                   description="A new gateway key: send it as `Authorization: Bearer plg_…` to /gateway/v1/….")
    def post(self, request, id):
        deployment = selectors.deployment_get(user=request.user, deployment_id=id)
        data = serializers.DeploymentKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        key, raw = keys.deployment_key_create(deployment=deployment, name=data.validated_data["name"])
        key.key = raw  # returned this once; only its hash is kept
        return Response(serializers.DeploymentKeyCreatedOutput(key).data, status=status.HTTP_201_CREATED)


class DeploymentKeyDetailApi(APIView):
    @extend_schema(request=None, responses={200: serializers.DeploymentKeyOutput},
                   description="Revoke the key: the gateway refuses it from now on.")
    def delete(self, request, id, key_id):
        deployment = selectors.deployment_get(user=request.user, deployment_id=id)
        key = keys.deployment_key_revoke(deployment=deployment, key_id=key_id)
        return Response(serializers.DeploymentKeyOutput(key).data)


class RunPromoteApi(APIView):
    @extend_schema(request=serializers.PromoteInput, responses={201: serializers.PromoteOutput},
                   description="Make an approved run's prompt, model and parameters a version of a deployment "
                               "(the existing version if identical), optionally starting an A/B test against the "
                               "active version.")
    def post(self, request, run_id):
        run = run_get(user=request.user, run_id=run_id, outputs=False)
        data = serializers.PromoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        deployment = selectors.deployment_get(user=request.user, deployment_id=fields.pop("deployment_id"))
        if "split" in fields:
            fields["split"] = tuple(fields["split"])
        version, ab_test = promote.run_promote(run=run, deployment=deployment, actor=request.user.username, **fields)
        body = {"version": VersionOutput(version).data, "ab_test": AbTestOutput(ab_test).data if ab_test else None}
        return Response(body, status=status.HTTP_201_CREATED)


class DeploymentKeyAuthentication(BaseAuthentication):
    """`Bearer plg_…`: a deployment key, which may only give feedback on its own deployment's requests."""

    def authenticate_header(self, request) -> str:
        return "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip().startswith(keys.KEY_PREFIX):
            return None
        deployment = keys.deployment_for_key(raw=raw.strip())
        if deployment is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked deployment key.")
        return deployment.owner, deployment


class GatewayFeedbackApi(APIView):
    authentication_classes = [DeploymentKeyAuthentication, BearerAuthentication, SessionAuthentication]

    @extend_schema(request=serializers.FeedbackInput, responses=serializers.FeedbackOutput,
                   description="Record whether a gateway response helped (by the X-Request-ID it came with); its "
                               "success is recomputed when the A/B test requires helpful answers. Authenticate with "
                               "the deployment's key (Bearer plg_…) or your own API key.")
    def post(self, request):
        data = serializers.FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        scope = ({"deployment": request.auth} if isinstance(request.auth, Deployment)
                 else {"user": request.user})
        row = requests.feedback_record(**scope, request_id=str(data.validated_data["request_id"]),
                                       helpful=data.validated_data["helpful"])
        return Response(serializers.FeedbackOutput(row).data)


class DeploymentKeyScheme(OpenApiAuthenticationExtension):
    target_class = DeploymentKeyAuthentication
    name = "deploymentKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A deployment's gateway key (plg_…)."}
